"""The project's routes plus the meetings API, for as long as coalition/api_urls.py does not include it."""

from django.urls import include, path

from coalition.urls import urlpatterns as project_urlpatterns

urlpatterns = [path("api/v1/", include("meetings.api.urls")), *project_urlpatterns]
