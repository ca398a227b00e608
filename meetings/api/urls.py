"""Meeting and brief routes; coalition/api_urls.py includes them under /api/v1/.

A router of path converters, so the ids are whole numbers in the URLs as in the schema (`<int:pk>`). The brief's
files are routed by hand: their URLs end without a slash, which a router gives every route or none.
"""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path
from rest_framework.routers import SimpleRouter

from meetings.api import views

router = SimpleRouter(use_regex_path=False)
router.register("meetings", views.MeetingViewSet, basename="meeting")
router.register("meetings/<int:pk>/invitations", views.MeetingInvitationViewSet, basename="meeting-invitation")
router.register("meetings/<int:pk>/agenda", views.MeetingAgendaViewSet, basename="meeting-agenda-item")
router.register("meetings/<int:pk>/briefs", views.MeetingBriefViewSet, basename="meeting-brief")
router.register("briefs", views.BriefViewSet, basename="brief")

urlpatterns: list[URLPattern | URLResolver] = [
    *router.urls,
    *(path(f"briefs/<int:pk>/{extension}", views.BriefViewSet.as_view({"get": extension}, detail=True),
           name=f"brief-{extension}") for extension in views.BRIEF_FILES),
]
