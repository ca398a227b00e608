"""The gazetteer in the admin: everyone signed in may look places up (the pledge form's place box asks here);
administrators add the places GeoNames lacks. No place is ever deleted: pledges and their history point at it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _

from accounts.roles import is_administrator
from places import services
from places.models import Place, PlaceSource
from places.selectors import places_matching


class PlaceBox(AutocompleteSelect):
    """The admin's place box (select2, searching places_matching) with words in it: select2 names its box by the
    text shown in it, which is empty until a place is chosen, so a screen reader would hear a nameless box."""

    def build_attrs(self, base_attrs: dict[str, Any], extra_attrs: dict[str, Any] | None = None) -> dict[str, Any]:
        attrs = super().build_attrs(base_attrs, extra_attrs=extra_attrs)
        attrs["data-placeholder"] = _("Place: type a few letters (Kyiv, Odesa, Rzeszów)")
        return attrs


class PlaceForm(forms.ModelForm):
    class Meta:
        model = Place
        fields = ("name", "country_code", "latitude", "longitude")

    def clean_country_code(self) -> str:
        """Typed in any case; the model's validators then check the code (places.gazetteer)."""
        return str(self.cleaned_data["country_code"]).strip().upper()


@admin.register(Place)
class PlaceAdmin(admin.ModelAdmin):
    form = PlaceForm
    list_display = ("name", "country_code", "latitude", "longitude", "population", "source", "id")
    list_filter = ("source",)
    search_fields = ("name",)  # the search itself is places_matching: every name, accents aside
    list_per_page = 50
    show_full_result_count = False  # a count over 69,000 places on every search page helps no one

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_active)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_administrator(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_administrator(request.user) and (obj is None or obj.source == PlaceSource.ADDED)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_search_results(self, request: HttpRequest, queryset: QuerySet[Place],
                           search_term: str) -> tuple[QuerySet[Place], bool]:
        if not search_term.strip():
            return queryset, False
        places = places_matching(search_term)
        if queryset.query.has_filters():  # a list filter (source) chosen beside the search
            places = places.filter(pk__in=queryset.values("pk"))
        return places, False

    def save_model(self, request: HttpRequest, obj: Place, form: Any, change: bool) -> None:
        data = {name: form.cleaned_data[name] for name in ("name", "country_code", "latitude", "longitude")}
        try:
            saved = (services.place_update(actor=request.user, place=obj, **data) if change
                     else services.place_add(actor=request.user, **data))
        except ValidationError as error:  # the form checked the same; a race is not worth a page of its own
            raise PermissionDenied(" ".join(error.messages)) from error
        obj.pk = saved.pk
