"""Pledge filters. Every unknown value is a form error, so the API answers 400 naming the parameter.

A message that shows what the reader sent takes it as a parameter (`params`), never inside its text:
django-filter formats every message with `%` (`message % params`), so a value such as `%d` inside the text
would break the formatting (a 500), and a text built with the value could never be translated."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import django_filters
from django import forms
from django.core.validators import ProhibitNullCharactersValidator
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pledges.models import (
    CapabilityCategory,
    Caveat,
    CaveatKind,
    Coalition,
    Country,
    Delivery,
    PledgeStatus,
    Requirement,
)
from utilities.api import MOMENT_HELP, StableOrderingFilter, parse_moment

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class CommaSeparatedChoiceField(forms.CharField):
    """`a,b,c` -> ["a", "b", "c"], each checked against the allowed values; `unknown` says which are not, with
    `%(values)s` where they go."""

    default_validators = [ProhibitNullCharactersValidator()]

    def __init__(self, *, allowed: Callable[[list[str]], Iterable[str]], normalize: Callable[[str], str],
                 unknown: StrOrPromise, **kwargs: Any) -> None:
        self.allowed, self.normalize, self.unknown = allowed, normalize, unknown
        super().__init__(**kwargs)

    def clean(self, value: Any) -> list[str] | None:
        text = super().clean(value)
        if not text:
            return None
        values = sorted({self.normalize(part.strip()) for part in text.split(",") if part.strip()})
        if not values:
            return None
        unknown = sorted(set(values) - set(self.allowed(values)))
        if unknown:
            raise forms.ValidationError(self.unknown, code="invalid_choice", params={"values": ", ".join(unknown)})
        return values


class NulSafeModelChoiceField(django_filters.fields.ModelChoiceField):
    """A NUL byte would reach PostgreSQL (which refuses it) before the usual "not a valid choice"."""

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str) and "\x00" in value:
            raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


class ModelChoiceFilter(django_filters.ModelChoiceFilter):
    field_class = NulSafeModelChoiceField


class CommaSeparatedFilter(django_filters.Filter):
    field_class = CommaSeparatedChoiceField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("lookup_expr", "in")
        super().__init__(*args, **kwargs)


class StrictBooleanField(forms.Field):
    """true/false (also 1/0, yes/no); anything else is an error, not "no filter"."""

    VALUES = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}

    def to_python(self, value: Any) -> bool | None:
        if value in (None, ""):
            return None
        try:
            return self.VALUES[str(value).strip().lower()]
        except KeyError:
            raise forms.ValidationError(_("Enter true or false."), code="invalid") from None

    def validate(self, value: Any) -> None:
        return None


class BooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class MomentFormField(django_filters.fields.IsoDateTimeField):
    """A moment read by utilities.api.parse_moment, as everywhere else in the API."""

    def to_python(self, value: Any) -> dt.datetime | None:
        if value in self.empty_values:
            return None
        try:
            return parse_moment(value)
        except ValueError as error:
            raise forms.ValidationError(str(error), code="invalid") from None


class MomentFilter(django_filters.IsoDateTimeFilter):
    field_class = MomentFormField


class IntegerFilter(django_filters.NumberFilter):
    """A whole number: `1.5` is an error, not a filter on 1.5."""

    field_class = forms.IntegerField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", 2_147_483_647)
        super().__init__(*args, **kwargs)


UNKNOWN_COUNTRY = gettext_lazy("Unknown country code: %(values)s.")


def _known_country_codes(codes: list[str]) -> Iterable[str]:
    return Country.objects.filter(code__in=codes).values_list("code", flat=True)


class PledgeFilterSet(django_filters.FilterSet):
    """The pledge filters; `as_of` is read by the view (it changes the rows, not just which ones)."""

    country = CommaSeparatedFilter(
        field_name="country__code", allowed=_known_country_codes, normalize=str.upper, unknown=UNKNOWN_COUNTRY,
        help_text="ISO codes, comma-separated: PL,FR.",
    )
    coalition = ModelChoiceFilter(queryset=Coalition.objects.all(), help_text="Coalition id.")
    category = ModelChoiceFilter(
        queryset=CapabilityCategory.objects.all(), to_field_name="code", help_text="Category code, e.g. troops."
    )
    status = CommaSeparatedFilter(
        field_name="status", allowed=lambda values: PledgeStatus.values, normalize=str.lower,
        unknown=gettext_lazy("Unknown status: %(values)s."),
        help_text=f"Comma-separated, of: {', '.join(PledgeStatus.values)}.",
    )
    conditional = BooleanFilter(
        field_name="is_conditional", help_text="Only pledges with (true) or without (false) an active condition."
    )
    stale = BooleanFilter(field_name="is_stale",
                          help_text="Only offered pledges not reconfirmed in time (true), or the others (false).")
    overdue = BooleanFilter(field_name="has_overdue_delivery",
                            help_text="Only pledges with (true) or without (false) an overdue tranche.")
    updated_since = MomentFilter(
        field_name="updated_at", lookup_expr="gte", help_text=f"Changed at or after this moment: {MOMENT_HELP}"
    )
    as_of = MomentFilter(
        method="keep_as_is", help_text=f"The pledges as they stood at this moment, from their history: {MOMENT_HELP}"
    )
    ordering = StableOrderingFilter(
        fields=(
            ("id", "id"), ("country__code", "country"), ("category__sort_order", "category"), ("quantity", "quantity"),
            ("status", "status"), ("updated_at", "updated_at"), ("created_at", "created_at"),
            ("available_from", "available_from"),
        ),
        help_text="Comma-separated; prefix with - for descending.",
    )

    def get_form_class(self) -> type[forms.Form]:
        """The form's fields depend on no request: built once per class (django-filter builds it per request)."""
        form_class: type[forms.Form] | None = type(self).__dict__.get("_form_class")
        if form_class is None:
            form_class = super().get_form_class()
            type(self)._form_class = form_class  # type: ignore[attr-defined]
        return form_class

    def keep_as_is(self, queryset: QuerySet[Any], name: str, value: dt.datetime) -> QuerySet[Any]:
        """`as_of` is validated here and applied by the view: it changes the rows, not just which ones."""
        return queryset


class CaveatFilterSet(django_filters.FilterSet):
    country = CommaSeparatedFilter(
        field_name="country__code", allowed=_known_country_codes, normalize=str.upper, unknown=UNKNOWN_COUNTRY,
        help_text="ISO codes, comma-separated: PL,FR.",
    )
    coalition = ModelChoiceFilter(queryset=Coalition.objects.all(), help_text="Coalition id.")
    pledge = IntegerFilter(field_name="pledge_id", help_text="Pledge id.")
    kind = django_filters.ChoiceFilter(choices=CaveatKind.choices)
    is_active = BooleanFilter()

    class Meta:
        model = Caveat
        fields = ("country", "coalition", "pledge", "kind", "is_active")


class RequirementFilterSet(django_filters.FilterSet):
    coalition = ModelChoiceFilter(queryset=Coalition.objects.all(), help_text="Coalition id.")
    category = ModelChoiceFilter(
        queryset=CapabilityCategory.objects.all(), to_field_name="code", help_text="Category code, e.g. troops."
    )

    class Meta:
        model = Requirement
        fields = ("coalition", "category")


class DeliveryFilterSet(django_filters.FilterSet):
    pledge = IntegerFilter(field_name="pledge_id", help_text="Pledge id.")
    country = CommaSeparatedFilter(
        field_name="pledge__country__code", allowed=_known_country_codes, normalize=str.upper, unknown=UNKNOWN_COUNTRY,
        help_text="ISO codes, comma-separated: PL,FR.",
    )
    coalition = ModelChoiceFilter(field_name="pledge__coalition", queryset=Coalition.objects.all(),
                                  help_text="Coalition id.")
    delivered = BooleanFilter(field_name="delivered_on", lookup_expr="isnull", exclude=True,
                              help_text="Only tranches delivered (true) or still to come (false).")
    overdue = BooleanFilter(method="filter_overdue",
                            help_text="Only tranches past their planned day and not delivered (true), or the others.")

    class Meta:
        model = Delivery
        fields = ("pledge", "country", "coalition", "delivered", "overdue")

    def filter_overdue(self, queryset: QuerySet[Any], name: str, value: bool | None) -> QuerySet[Any]:
        if value is None:
            return queryset
        overdue = Q(delivered_on__isnull=True, planned_on__lt=timezone.localdate())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)
