"""Meeting and brief routes; coalition/api_urls.py includes them under /api/v1/."""

from django.urls import path

from meetings.api import views

urlpatterns = [
    path("meetings/", views.MeetingListView.as_view(), name="meeting-list"),
    path("meetings/<int:pk>/", views.MeetingDetailView.as_view(), name="meeting-detail"),
    path("meetings/<int:pk>/invitations/", views.MeetingInvitationsView.as_view(), name="meeting-invitations"),
    path("meetings/<int:pk>/invitations/<str:country_code>/", views.MeetingInvitationView.as_view(),
         name="meeting-invitation"),
    path("meetings/<int:pk>/agenda/", views.MeetingAgendaView.as_view(), name="meeting-agenda"),
    path("meetings/<int:pk>/agenda/<int:item_id>/", views.MeetingAgendaItemView.as_view(), name="meeting-agenda-item"),
    path("meetings/<int:pk>/briefs/", views.MeetingBriefsView.as_view(), name="meeting-briefs"),
    path("briefs/", views.BriefListView.as_view(), name="brief-list"),
    path("briefs/<int:pk>/", views.BriefDetailView.as_view(), name="brief-detail"),
    path("briefs/<int:pk>/pdf", views.BriefPdfView.as_view(), name="brief-pdf"),
    path("briefs/<int:pk>/xlsx", views.BriefXlsxView.as_view(), name="brief-xlsx"),
]
