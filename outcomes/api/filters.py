"""Outcome filters; an unknown value is a 400 naming the parameter."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy

from outcomes.models import Outcome, OutcomeKind, OutcomeStatus, overdue_q
from pledges.api.filters import BooleanFilter, CommaSeparatedFilter, IntegerFilter, ModelChoiceFilter
from pledges.models import Coalition, Country

SECRETARIAT = "SECRETARIAT"


def _known_owners(values: list[str]) -> Iterable[str]:
    return [*Country.objects.filter(code__in=values).values_list("code", flat=True), SECRETARIAT]


class OutcomeFilterSet(django_filters.FilterSet):
    meeting = IntegerFilter(field_name="meeting_id", help_text="Meeting id.")
    coalition = ModelChoiceFilter(field_name="meeting__coalition", queryset=Coalition.objects.all(),
                                  help_text="Coalition id.")
    owner = CommaSeparatedFilter(
        method="filter_owner", allowed=_known_owners, normalize=str.upper,
        unknown=gettext_lazy("Unknown owner: %(values)s (give country codes, or secretariat)."),
        help_text="ISO codes, comma-separated (PL,FR); `secretariat` for the secretariat's actions.",
    )
    kind = django_filters.ChoiceFilter(choices=OutcomeKind.choices)
    status = django_filters.ChoiceFilter(choices=OutcomeStatus.choices)
    overdue = BooleanFilter(method="filter_overdue",
                            help_text="Only open actions past their due day (true), or the others (false).")

    class Meta:
        model = Outcome
        fields = ("meeting", "coalition", "owner", "kind", "status", "overdue")

    def filter_owner(self, queryset: QuerySet[Any], name: str, value: list[str] | None) -> QuerySet[Any]:
        if not value:
            return queryset
        codes = [code for code in value if code != SECRETARIAT]
        wanted = Q(owner__code__in=codes)
        if SECRETARIAT in value:
            wanted |= Q(kind=OutcomeKind.ACTION, owner__isnull=True)
        return queryset.filter(wanted)

    def filter_overdue(self, queryset: QuerySet[Any], name: str, value: bool | None) -> QuerySet[Any]:
        if value is None:
            return queryset
        overdue = overdue_q(timezone.localdate())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)
