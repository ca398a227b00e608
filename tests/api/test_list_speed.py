"""The pledge list builds its rows without the serializer (serializers.pledge_list_rows, and for a JSON page
PostgreSQL itself: pledges.api.page_sql); they must not drift.

Every row the list answers, live and `as_of`, JSON and CSV, is compared with PledgeSerializer's output for the
same pledge, over pledges that between them fill and leave empty every field.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import DataError, IntegrityError, transaction
from django.utils import timezone
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from rest_framework.renderers import JSONRenderer
from rest_framework.test import APIClient

from places.models import ADDED_FROM, Place
from pledges import services
from pledges.api.serializers import PLEDGE_LIST_FIELDS, PledgeSerializer, pledge_list_rows
from pledges.api.views import PledgeCSVRenderer
from pledges.columns import PLEDGE_COLUMNS, PLEDGE_CSV_COLUMNS
from pledges.models import Pledge
from pledges.selectors import pledge_list
from tests.conftest import World
from tests.factories import make_pledge
from tests.http import content_of


@pytest.fixture
def varied(world: World, gazetteer: None) -> list[Pledge]:
    full: dict[str, Any] = dict(description="=SUM(A1): a mechanised battalion", available_from=dt.date(2025, 3, 1),
                available_until=dt.date(2026, 12, 31), notice_to_move_days=30, location="Kyiv",
                place=Place.objects.get(pk=703448),
                estimated_value_eur=Decimal("1234567.80"), releasability="coalition", is_illustrative=True)
    pledges = [
        make_pledge(country=world.pl, coalition=world.coalition, category=world.troops, quantity=300,
                    status="confirmed", **full),
        make_pledge(country=world.fr, coalition=world.coalition, category=world.troops, quantity=1,
                    status="indicative"),  # every optional field empty
        make_pledge(country=world.gb, coalition=world.coalition, category=world.air, unit=world.aircraft,
                    quantity=8, status="deployed", estimated_value_eur=Decimal("0.50"), notice_to_move_days=0),
        make_pledge(country=world.gb, coalition=world.other_coalition, category=world.air, unit=world.aircraft,
                    quantity=2_000_000_000, status="withdrawn", estimated_value_eur=Decimal("999999999999.99"),
                    description="Ünïcödé — «quotes» \"and\" \\ backslash\n2nd line"),
        make_pledge(country=world.us, coalition=world.other_coalition, category=world.air, unit=world.aircraft,
                    quantity=12, status="indicative", estimated_value_eur=Decimal("0")),
    ]
    services.caveat_add(actor=world.ministry_gb, pledge=pledges[2], kind="condition", text="US backstop.")
    services.caveat_add(actor=world.ministry_pl, coalition=world.coalition, kind="condition", text="Country-wide.")
    return pledges


def serializer_rows(user: Any, *, as_of: dt.datetime | None = None) -> list[dict[str, Any]]:
    return list(PledgeSerializer(pledge_list(user=user, as_of=as_of).order_by("id"), many=True).data)


def fast_rows(user: Any, *, as_of: dt.datetime | None = None) -> list[dict[str, Any]]:
    return pledge_list_rows(pledge_list(user=user, as_of=as_of).order_by("id").values_list(*PLEDGE_LIST_FIELDS))


def as_json(rows: list[dict[str, Any]]) -> bytes:
    return JSONRenderer().render(rows)


def test_fast_rows_equal_the_serializer_live(world: World, varied: list[Pledge]) -> None:
    expected = serializer_rows(world.analyst)
    got = fast_rows(world.analyst)
    assert len(got) == len(varied) == 5
    assert got == expected
    assert as_json(got) == as_json(expected)  # same bytes on the wire: key order, decimals, dates, moments
    assert all(list(row) == list(PLEDGE_COLUMNS) for row in got)
    by_id = {row["id"]: row for row in got}
    assert by_id[varied[0].pk]["estimated_value_eur"] == "1234567.80"
    assert by_id[varied[0].pk]["available_from"] == "2025-03-01"
    assert by_id[varied[0].pk]["is_conditional"] is True  # Poland's country-wide condition
    assert by_id[varied[1].pk]["estimated_value_eur"] is None
    assert by_id[varied[1].pk]["notice_to_move_days"] is None
    assert by_id[varied[2].pk]["estimated_value_eur"] == "0.50"
    assert by_id[varied[2].pk]["is_conditional"] is True
    assert by_id[varied[4].pk]["is_conditional"] is False
    assert str(by_id[varied[0].pk]["updated_at"]).endswith("Z")


def test_fast_rows_equal_the_serializer_for_a_ministry_user(world: World, varied: list[Pledge]) -> None:
    draft = make_pledge(country=world.pl, coalition=world.coalition, category=world.troops, quantity=5,
                        estimated_value_eur=Decimal("12.30"))
    got = fast_rows(world.ministry_pl)
    assert got == serializer_rows(world.ministry_pl)
    assert draft.pk in {row["id"] for row in got}


@pytest.mark.django_db(transaction=True)  # pghistory stamps events with their transaction's NOW()
def test_fast_rows_equal_the_serializer_as_of(world: World, varied: list[Pledge]) -> None:
    before = timezone.now()
    services.pledge_update(actor=world.ministry_pl, pledge=Pledge.objects.get(pk=varied[0].pk), quantity=301,
                           estimated_value_eur=Decimal("7.10"), available_until=None)
    expected = serializer_rows(world.analyst, as_of=before)
    got = fast_rows(world.analyst, as_of=before)
    assert got == expected and as_json(got) == as_json(expected)
    row = next(r for r in got if r["id"] == varied[0].pk)
    assert (row["quantity"], row["estimated_value_eur"], row["available_until"]) == (300, "1234567.80", "2026-12-31")
    assert fast_rows(world.analyst) == serializer_rows(world.analyst)


def test_list_endpoint_answers_the_serializer_rows(world: World, varied: list[Pledge],
                                                   client_for: Callable[[str], APIClient]) -> None:
    client = client_for("analyst")
    for query in ("", "?ordering=-updated_at&page_size=2", "?status=confirmed,deployed&conditional=true"):
        body = client.get("/api/v1/pledges/" + query).json()
        by_id = {row["id"]: row for row in serializer_rows(world.analyst)}
        assert body["results"], query
        assert body["results"] == [by_id[row["id"]] for row in body["results"]], query
    page = client.get("/api/v1/pledges/?ordering=-updated_at&page_size=2").json()
    assert page["count"] == 5 and len(page["results"]) == 2 and page["next"]
    moment = timezone.now().isoformat()
    at = client.get("/api/v1/pledges/", {"as_of": moment}).json()["results"]
    assert sorted(at, key=lambda row: row["id"]) == serializer_rows(world.analyst)


def test_csv_rows_are_the_serializer_rows(world: World, varied: list[Pledge],
                                          client_for: Callable[[str], APIClient]) -> None:
    response = client_for("analyst").get("/api/v1/pledges/?format=csv&ordering=id")
    assert response.status_code == 200
    expected = PledgeCSVRenderer().render(serializer_rows(world.analyst))
    assert content_of(response) == expected
    lines = list(csv.reader(io.StringIO(content_of(response).decode())))
    assert lines[0] == list(PLEDGE_CSV_COLUMNS)
    assert lines[1][PLEDGE_CSV_COLUMNS.index("description")].startswith("'=SUM")


def test_json_list_is_byte_identical_to_serializer_rendering(world: World, varied: list[Pledge],
                                                             client_for: Callable[[str], APIClient]) -> None:
    response = client_for("analyst").get("/api/v1/pledges/?ordering=id")
    body = json.loads(response.content)
    results = response.content.split(b'"results":', 1)[1][:-1]
    assert results == as_json(serializer_rows(world.analyst)) == as_json(body["results"])


# What PostgreSQL writes for a page (pledges.api.page_sql) against what the serializer writes, over stored values
# the fixture above does not reach: any text, moments with and without microseconds, amounts, coordinates.
texts = st.text(st.characters(exclude_characters="\x00", codec="utf-8"), max_size=40) | st.sampled_from(
    ["\u2028\u2029", "\x1b[0m\x7f", "tab\there", "\"'\\/", "é" * 3, "</script>"])
moments = st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2090, 1, 1),
                       timezones=st.just(dt.UTC)) | st.just(dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC))
coordinates = st.floats(min_value=-90, max_value=90, allow_nan=False) | st.sampled_from([0.0, -0.0, 50.0, 1e-05, 45.5])


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(description=texts, location=texts, created=moments, reconfirmed=st.none() | moments,
       euros=st.none() | st.decimals(min_value=0, max_value=Decimal("999999999999.99"), places=2),
       latitude=coordinates, longitude=coordinates, place_name=texts)
def test_the_page_postgresql_writes_is_the_serializers_byte_for_byte(
        world: World, client_for: Callable[[str], APIClient], description: str, location: str,
        created: dt.datetime, reconfirmed: dt.datetime | None, euros: Decimal | None, latitude: float,
        longitude: float, place_name: str) -> None:
    pledge = make_pledge(country=world.pl, coalition=world.coalition, category=world.troops, status="confirmed")
    try:
        with transaction.atomic():  # a value the database refuses is not one a page can hold
            place = Place.objects.create(id=ADDED_FROM + pledge.pk, name=place_name, country_code="UA",
                                         latitude=latitude, longitude=longitude)
            Pledge.objects.filter(pk=pledge.pk).update(description=description, location=location,
                                                       created_at=created, reconfirmed_at=reconfirmed,
                                                       estimated_value_eur=euros, place=place)
    except (IntegrityError, DataError):
        assume(False)
    response = client_for("analyst").get("/api/v1/pledges/", {"ordering": "id", "page_size": 1000})
    results = response.content.split(b'"results":', 1)[1][:-1]
    assert results == as_json(serializer_rows(world.analyst))


def test_a_page_read_in_another_time_zone_is_still_the_serializers(world: World, varied: list[Pledge],
                                                                   client_for: Callable[[str], APIClient]) -> None:
    # PostgreSQL writes moments in UTC; where another zone is current, the page is written in Python.
    with timezone.override("Europe/Paris"):
        response = client_for("analyst").get("/api/v1/pledges/?ordering=id")
        assert response.content.split(b'"results":', 1)[1][:-1] == as_json(serializer_rows(world.analyst))
    assert b"+01:00" in response.content or b"+02:00" in response.content
