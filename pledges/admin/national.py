"""What the admins share: who may change a national row (pledges.py, caveats.py), the base of the admins where
ministry staff add their own country's rows, and the base of those the secretariat keeps (requirements.py,
conditions.py). Every reader sees what pledges.visibility allows them;
every write goes through pledges.services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from accounts.roles import is_ministry, is_reader, is_secretariat
from pledges.models import Caveat, Pledge, PledgeStatus
from pledges.visibility import caveats_editable_by, pledges_editable_by
from utilities.service_admin import EventHistoryMixin, ServiceAdminMixin


def _may_edit(request: HttpRequest, queryset: QuerySet[Any], obj: Model) -> bool:
    """Whether `obj` is in `queryset` (an *_editable_by set), asked once per request and object."""
    cache: dict[tuple[str, int], bool] = request.__dict__.setdefault("_editable_cache", {})
    key = (obj._meta.label, obj.pk)
    if key not in cache:
        cache[key] = queryset.filter(pk=obj.pk).exists()
    return cache[key]


def may_edit_pledge(request: HttpRequest, pledge: Pledge | None) -> bool:
    if not is_ministry(request.user):
        return False
    if pledge is None or pledge.pk is None:
        return True
    return pledge.status != PledgeStatus.WITHDRAWN and _may_edit(request, pledges_editable_by(request.user), pledge)


def may_edit_caveat(request: HttpRequest, caveat: Caveat | None) -> bool:
    if not is_ministry(request.user):
        return False
    if caveat is None or caveat.pk is None:
        return True
    return _may_edit(request, caveats_editable_by(request.user), caveat)


class NationalRowsAdmin(ServiceAdminMixin, EventHistoryMixin, admin.ModelAdmin):
    """Pledges and caveats: every reader sees the rows pledges.visibility allows them; ministry staff add
    (for their own country); who may change a row is each admin's `has_change_permission`."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_reader(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_reader(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_ministry(request.user)


class SecretariatKeptAdmin(ServiceAdminMixin, admin.ModelAdmin):
    """Records the secretariat keeps for a coalition (requirements, conditions): every reader sees those of the
    coalitions they see (each admin's get_queryset); the secretariat adds and changes them."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_reader(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_reader(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_secretariat(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_secretariat(request.user)
