from django.urls import path

from dashboard import views

app_name = "dashboard"

urlpatterns = [
    path("", views.dashboard, name="index"),
    path("meetings/<int:meeting_id>/briefs/", views.brief_request, name="brief-request"),
    path("coalitions/<int:coalition_id>/changes/", views.changes, name="changes"),
]
