"""Routes of the outcomes API, included under /api/v1/ by coalition/api_urls.py."""

from __future__ import annotations

from rest_framework.routers import SimpleRouter

from outcomes.api import views

router = SimpleRouter()
router.register("outcomes", views.OutcomeViewSet, basename="outcome")

urlpatterns = router.urls
