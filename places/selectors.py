"""Finding places by name: any of their names, accents and case aside, biggest first."""

from __future__ import annotations

from django.db.models import Case, IntegerField, QuerySet, Value, When

from places.models import Place
from places.names import SEPARATOR, search_key

SEARCH_LIMIT = 20


def places_matching(text: str, *, countries: list[str] | None = None) -> QuerySet[Place]:
    """Places with a name that starts with `text` (after places.names.search_key): those with a name equal to it
    first ("Odessa" is Odesa's name in English as much as the Texan town's), each group by population.
    Empty for an empty text. `countries` keeps only those ISO codes."""
    key = search_key(text)
    if not key:
        return Place.objects.none()
    places = Place.objects.filter(names__contains=SEPARATOR + key)
    if countries:
        places = places.filter(country_code__in=countries)
    return places.annotate(
        match=Case(
            When(names__contains=SEPARATOR + key + SEPARATOR, then=Value(0)),
            default=Value(1), output_field=IntegerField(),
        ),
    ).order_by("match", "-population", "name", "id")
