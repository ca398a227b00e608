"""Reference data: administrators change it, every role reads it."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.utils.translation import gettext, gettext_lazy

from accounts.roles import is_administrator, is_reader
from pledges.models import (
    CapabilityCategory,
    CategoryUnit,
    Caveat,
    Coalition,
    Country,
    Membership,
    Pledge,
    Requirement,
    Unit,
)
from pledges.visibility import coalitions_visible_to
from utilities.admin_inlines import LabelledTabularInline

# --- reference data: administrators change it, every role reads it -------------------------------


class AdministeredMixin:
    """Every role reads; administrators add, change and delete."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_reader(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_reader(request.user)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_administrator(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_administrator(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_administrator(request.user)


class ReferenceDataAdmin(AdministeredMixin, admin.ModelAdmin):
    pass


class InUseInlineFormSet(BaseInlineFormSet):
    """Refuse to remove a link (membership, category unit) that pledges still rest on, with a clear error."""

    def in_use(self, instance: Any) -> str | None:
        raise NotImplementedError

    def clean(self) -> None:
        super().clean()
        for form in self.deleted_forms:
            if form.instance.pk is not None and (reason := self.in_use(form.instance)):
                raise ValidationError(reason)


class MembershipFormSet(InUseInlineFormSet):
    def in_use(self, instance: Membership) -> str | None:
        filters = {"country_id": instance.country_id, "coalition_id": instance.coalition_id}
        if Pledge.objects.filter(**filters).exists() or Caveat.objects.filter(**filters).exists():
            return gettext("%(country)s has pledges or caveats in this coalition, so it stays a member.") % {
                "country": instance.country}
        return None


class CategoryUnitFormSet(InUseInlineFormSet):
    def in_use(self, instance: CategoryUnit) -> str | None:
        filters = {"category_id": instance.category_id, "unit_id": instance.unit_id}
        if Pledge.objects.filter(**filters).exists() or Requirement.objects.filter(**filters).exists():
            return gettext("Pledges or requirements are counted in %(unit)s, so it stays a unit of this category.") % {
                "unit": instance.unit}
        return None


class AdministeredInline(AdministeredMixin, LabelledTabularInline):
    extra = 0


class MembershipInline(AdministeredInline):
    model = Membership
    formset = MembershipFormSet
    autocomplete_fields = ("country",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Membership]:
        return super().get_queryset(request).select_related("country")


class CategoryUnitInline(AdministeredInline):
    model = CategoryUnit
    formset = CategoryUnitFormSet
    verbose_name = gettext_lazy("unit")
    verbose_name_plural = gettext_lazy("units this category is counted in")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return CategoryUnit.objects.select_related("unit", "category")


@admin.register(Country)
class CountryAdmin(ReferenceDataAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")


@admin.register(Coalition)
class CoalitionAdmin(ReferenceDataAdmin):
    list_display = ("short_name", "name", "member_count")
    search_fields = ("name", "short_name")
    inlines = [MembershipInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Coalition]:
        return coalitions_visible_to(request.user).annotate(member_count=Count("memberships"))

    @admin.display(description=gettext_lazy("members"), ordering="member_count")
    def member_count(self, obj: Any) -> int:
        return int(obj.member_count)


@admin.register(Unit)
class UnitAdmin(ReferenceDataAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")


@admin.register(CapabilityCategory)
class CapabilityCategoryAdmin(ReferenceDataAdmin):
    list_display = ("name", "code", "sort_order", "unit_list")
    search_fields = ("code", "name")
    inlines = [CategoryUnitInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[CapabilityCategory]:
        return super().get_queryset(request).prefetch_related("units")

    @admin.display(description=gettext_lazy("units"))
    def unit_list(self, obj: CapabilityCategory) -> str:
        return ", ".join(unit.code for unit in obj.units.all())
