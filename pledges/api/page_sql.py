"""A pledge list page written by PostgreSQL: the count and the rows' JSON in one statement.

A computed page cost four times the same rows rendered by PostgreSQL itself, and the time was in Python (model
rows, dicts, the JSON encoder) and in round trips, not in the database. Here the page's rows come from the same
queryset as ever (pledges.selectors.pledge_list, through the filters, the ordering and the page): Django compiles
it and this module wraps its SQL, so who sees what stays one rule. PostgreSQL writes each row as PledgeSerializer
rendered by DRF's compact JSONRenderer would, byte for byte: the keys of PLEDGE_COLUMNS in order, moments in UTC
with `Z` and microseconds only when there are some, the value in euros as a string with two places, coordinates as
Python prints a float, U+2028 and U+2029 escaped. tests/api/test_list_speed.py holds the two renderings equal
(hypothesis over texts, moments, amounts and coordinates).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import connections
from django.db.models import QuerySet
from django.utils import timezone

from pledges.api.serializers import PLEDGE_LIST_FIELDS


def _text(column: str) -> str:
    # to_json escapes as json.dumps does (", \, \b \f \n \r \t, other control characters as \u00xx); DRF's
    # renderer also escapes the two JavaScript line separators.
    return (f"coalesce(replace(replace(to_json({column})::text, U&'\\2028', '\\u2028'), U&'\\2029', '\\u2029'), "
            "'null')")


def _number(column: str) -> str:  # integers and booleans print as JSON does
    return f"coalesce({column}::text, 'null')"


def _day(column: str) -> str:
    return f"coalesce(to_json({column})::text, 'null')"


def _euros(column: str) -> str:  # numeric(14, 2) prints its two places, as DRF's DecimalField
    return f"""coalesce('"' || {column}::text || '"', 'null')"""


def _moment(column: str) -> str:  # datetime.isoformat() in UTC, +00:00 as Z
    utc = f"({column} AT TIME ZONE 'UTC')"
    return (f"""CASE WHEN {column} IS NULL THEN 'null' ELSE '"' || to_char({utc}, 'YYYY-MM-DD"T"HH24:MI:SS') """
            f"""|| CASE WHEN mod(date_part('microseconds', {utc})::bigint, 1000000) = 0 THEN '' """
            f"""ELSE '.' || to_char({utc}, 'US') END || 'Z"' END""")


def _float(column: str) -> str:  # repr(): a whole number keeps '.0'
    return f"CASE WHEN {column} = trunc({column}) THEN {column}::text || '.0' ELSE {column}::text END"


# PLEDGE_LIST_FIELDS, in order: the key each is written under (None: part of `place`) and how.
WRITERS: dict[str, tuple[str | None, Callable[[str], str]]] = {
    "id": ("id", _number), "country__code": ("country", _text), "coalition_id": ("coalition", _number),
    "category__code": ("category", _text), "unit__code": ("unit", _text), "quantity": ("quantity", _number),
    "status": ("status", _text), "is_conditional": ("is_conditional", _number),
    "description": ("description", _text), "available_from": ("available_from", _day),
    "available_until": ("available_until", _day), "notice_to_move_days": ("notice_to_move_days", _number),
    "location": ("location", _text), "estimated_value_eur": ("estimated_value_eur", _euros),
    "releasability": ("releasability", _text), "is_illustrative": ("is_illustrative", _number),
    "version": ("version", _number), "created_at": ("created_at", _moment), "updated_at": ("updated_at", _moment),
    "delivered_quantity": ("delivered_quantity", _number),
    "has_overdue_delivery": ("has_overdue_delivery", _number), "reconfirmed_at": ("reconfirmed_at", _moment),
    "is_stale": ("is_stale", _number), "relieves_seen": ("relieves", _number),
    "place_id": (None, _number), "place__name": (None, _text), "place__country_code": (None, _text),
    "place__latitude": (None, _float), "place__longitude": (None, _float),
}
assert tuple(WRITERS) == PLEDGE_LIST_FIELDS, "every listed field has its writer, in the same order"
COLUMN = {field: f"r.c{index}" for index, field in enumerate(PLEDGE_LIST_FIELDS)}
KEY_ORDER = ("id", "country", "coalition", "category", "unit", "quantity", "status", "is_conditional",
             "description", "available_from", "available_until", "notice_to_move_days", "location", "place",
             "estimated_value_eur", "releasability", "is_illustrative", "version", "created_at", "updated_at",
             "delivered_quantity", "has_overdue_delivery", "reconfirmed_at", "is_stale", "relieves")


def _row_json() -> str:
    place = (f"CASE WHEN {COLUMN['place_id']} IS NULL THEN 'null' ELSE "
             f"""'{{"id":' || {_number(COLUMN['place_id'])} || ',"name":' || {_text(COLUMN['place__name'])} """
             f"""|| ',"country":' || {_text(COLUMN['place__country_code'])} """
             f"""|| ',"lat":' || {_float(COLUMN['place__latitude'])} """
             f"""|| ',"lon":' || {_float(COLUMN['place__longitude'])} || '}}' END""")
    written = {key: writer(COLUMN[field]) for field, (key, writer) in WRITERS.items() if key is not None}
    written["place"] = place
    parts = [f"""'{"{" if n == 0 else ","}"{key}":' || {written[key]}""" for n, key in enumerate(KEY_ORDER)]
    return " || ".join(parts) + " || '}'"


ROW_JSON = _row_json()
COLUMNS = ", ".join(f"c{index}" for index in range(len(PLEDGE_LIST_FIELDS)))


def writes_like_the_serializer() -> bool:
    """The moments are written in UTC, as the serializer writes them only while the current zone is UTC."""
    return bool(settings.USE_TZ) and timezone.get_current_timezone_name() == "UTC"


def count_and_page(pledges: QuerySet[Any], start: int, stop: int) -> tuple[int, str]:
    """How many pledges `pledges` holds, and its rows start:stop as a JSON array (text), in one statement."""
    count_sql, count_params = pledges.order_by().values("pk").query.sql_with_params()
    page = pledges.values_list(*PLEDGE_LIST_FIELDS)[start:stop]
    page_sql, page_params = page.query.sql_with_params()
    statement = (f"SELECT (SELECT count(*) FROM ({count_sql}) AS counted), "  # noqa: S608 (Django compiled it)
                 f"(SELECT '[' || coalesce(string_agg({ROW_JSON}, ','), '') || ']' "
                 f"FROM ({page_sql}) AS r({COLUMNS}))")
    with connections[pledges.db].cursor() as cursor:
        cursor.execute(statement, (*count_params, *page_params))
        count, rows = cursor.fetchone()
    return int(count), str(rows)
