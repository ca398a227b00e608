"""Routes of the pledges API, included under /api/v1/ by coalition/api_urls.py."""

from __future__ import annotations

from rest_framework.routers import SimpleRouter

from places.api import PlaceViewSet
from pledges.api import conditions, views

router = SimpleRouter()
router.register("countries", views.CountryViewSet, basename="country")
router.register("coalitions", views.CoalitionViewSet, basename="coalition")
router.register("categories", views.CategoryViewSet, basename="category")
router.register("pledges", views.PledgeViewSet, basename="pledge")
router.register("caveats", views.CaveatViewSet, basename="caveat")
router.register("requirements", views.RequirementViewSet, basename="requirement")
router.register("conditions", conditions.ConditionViewSet, basename="condition")
router.register("deliveries", views.DeliveryViewSet, basename="delivery")
router.register("places", PlaceViewSet, basename="place")

urlpatterns = router.urls
