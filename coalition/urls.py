from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

admin.site.site_header = "Coalition pledge tracker"
admin.site.site_title = "Coalition pledges"
admin.site.index_title = "Pledges, caveats and meetings"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("admin/", admin.site.urls),
    path("api/v1/", include("coalition.api_urls")),
]
