"""Tranches on their own: one list of every tranche you may see, with its history. They are planned and
recorded on their pledge's page (pledges.py)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import F, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy

from accounts.roles import is_reader
from pledges.history import delivery_versions
from pledges.models import Delivery
from pledges.visibility import deliveries_visible_to
from utilities.service_admin import EventHistoryMixin
from utilities.versioning import Version

DELIVERY_HISTORY_FIELDS = ("quantity", "planned_on", "delivered_on", "note")


@admin.register(Delivery)
class DeliveryAdmin(EventHistoryMixin, admin.ModelAdmin):
    """Every tranche you may see, overdue ones first; they are planned and recorded on their pledge's page."""

    list_display = ("pledge", "quantity", "planned_on", "delivered_on", "overdue")
    list_filter = ("delivered_on", "planned_on")
    list_select_related = ("pledge__country", "pledge__category", "pledge__unit")
    history_fields = DELIVERY_HISTORY_FIELDS

    @admin.display(description=gettext_lazy("overdue"), boolean=True)
    def overdue(self, obj: Delivery) -> bool:
        return obj.is_overdue_on(timezone.localdate())

    def get_queryset(self, request: HttpRequest) -> QuerySet[Delivery]:
        return deliveries_visible_to(request.user).order_by(F("delivered_on").asc(nulls_first=True), "planned_on")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_reader(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_reader(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def history_versions(self, request: HttpRequest, obj: Delivery) -> list[Version]:
        return delivery_versions(user=request.user, delivery_id=obj.pk)
