"""Pledge filters, writes through the services, ETag / If-Match, bad input and the CSV export."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from pledges import services
from pledges.columns import PLEDGE_COLUMNS, PLEDGE_CSV_COLUMNS
from pledges.models import Pledge
from tests.conftest import World
from tests.factories import CategoryFactory, make_pledge
from tests.http import content_of


def ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


@pytest.fixture
def analyst(client_for: Callable[[str], APIClient]) -> APIClient:
    return client_for("analyst")


@pytest.fixture
def pl(client_for: Callable[[str], APIClient]) -> APIClient:
    return client_for("ministry_pl")


# --- filters ---------------------------------------------------------------------------------

@pytest.fixture
def spread(world: World) -> dict[str, Pledge]:
    p = {
        "pl_troops": make_pledge(country=world.pl, coalition=world.coalition, category=world.troops,
                                 quantity=300, status="confirmed"),
        "fr_troops": make_pledge(country=world.fr, coalition=world.coalition, category=world.troops,
                                 quantity=200, status="indicative"),
        "gb_air": make_pledge(country=world.gb, coalition=world.coalition, category=world.air, unit=world.aircraft,
                              quantity=8, status="deployed"),
        "us_air": make_pledge(country=world.us, coalition=world.other_coalition, category=world.air,
                              unit=world.aircraft, quantity=12, status="indicative"),
        "pl_draft": make_pledge(country=world.pl, coalition=world.coalition, category=world.troops, quantity=1),
    }
    services.caveat_add(actor=world.ministry_gb, pledge=p["gb_air"], kind="condition", text="US backstop.")
    return p


def test_list_shape_and_default_order(analyst: APIClient, spread: dict[str, Pledge]) -> None:
    body = analyst.get("/api/v1/pledges/").json()
    assert body["count"] == 4  # the draft is nobody's but Poland's
    row = next(r for r in body["results"] if r["id"] == spread["gb_air"].pk)
    assert list(row) == list(PLEDGE_COLUMNS)
    assert row | {"created_at": None, "updated_at": None} == row | {
        "country": "GB", "coalition": spread["gb_air"].coalition_id, "category": "air", "unit": "aircraft",
        "quantity": 8, "status": "deployed", "is_conditional": True, "created_at": None, "updated_at": None,
    }


def test_default_order_is_country_name(analyst: APIClient, spread: dict[str, Pledge]) -> None:
    countries = [r["country"] for r in analyst.get("/api/v1/pledges/").json()["results"]]
    assert countries == ["FR", "PL", "GB", "US"]  # France, Poland, United Kingdom, United States


@pytest.mark.parametrize(("query", "expected"), [
    ("country=PL", ["pl_troops"]),
    ("country=pl,fr", ["fr_troops", "pl_troops"]),
    ("status=indicative", ["fr_troops", "us_air"]),
    ("status=confirmed,deployed", ["pl_troops", "gb_air"]),
    ("category=air", ["gb_air", "us_air"]),
    ("conditional=true", ["gb_air"]),
    ("conditional=false", ["fr_troops", "pl_troops", "us_air"]),
    ("ordering=-quantity", ["pl_troops", "fr_troops", "us_air", "gb_air"]),
    ("ordering=quantity&page_size=2", ["gb_air", "us_air"]),
    ("updated_since=2999-01-01T00:00:00Z", []),
    ("updated_since=2000-01-01T00:00:00Z&country=US", ["us_air"]),
])
def test_filters(analyst: APIClient, spread: dict[str, Pledge], query: str, expected: list[str]) -> None:
    assert ids(analyst.get(f"/api/v1/pledges/?{query}")) == [spread[name].pk for name in expected]


def test_coalition_filter(analyst: APIClient, spread: dict[str, Pledge], world: World) -> None:
    assert ids(analyst.get(f"/api/v1/pledges/?coalition={world.other_coalition.pk}")) == [spread["us_air"].pk]


def test_ministry_sees_own_draft_only(pl: APIClient, client_for: Callable[[str], APIClient],
                                      spread: dict[str, Pledge]) -> None:
    assert spread["pl_draft"].pk in ids(pl.get("/api/v1/pledges/?country=PL"))
    assert ids(client_for("ministry_fr").get("/api/v1/pledges/?country=PL")) == []  # secretariat-only release


@pytest.mark.parametrize(("query", "field"), [
    ("category=nope", "category"),
    ("status=bogus", "status"),
    ("status=indicative,bogus", "status"),
    ("country=XX", "country"),
    ("country=Poland", "country"),
    ("coalition=999999", "coalition"),
    ("coalition=abc", "coalition"),
    ("conditional=perhaps", "conditional"),
    ("updated_since=yesterday", "updated_since"),
    ("as_of=2025-13-45", "as_of"),
    ("ordering=password", "ordering"),
])
def test_unknown_filter_value_is_400_naming_the_field(analyst: APIClient, world: World, query: str,
                                                      field: str) -> None:
    response = analyst.get(f"/api/v1/pledges/?{query}")
    assert response.status_code == 400
    assert field in response.json(), response.json()


def test_page_size_above_the_maximum_is_refused_not_capped(analyst: APIClient, spread: dict[str, Pledge]) -> None:
    refused = analyst.get("/api/v1/pledges/?page_size=5000")
    assert refused.status_code == 400 and "1,000" in refused.json()["page_size"][0]
    body = analyst.get("/api/v1/pledges/?page_size=1000").json()
    assert body["count"] == 4 and len(body["results"]) == 4
    assert analyst.get("/api/v1/pledges/?page=99").status_code == 404


# --- writes ----------------------------------------------------------------------------------

def test_create_update_transition_delete(pl: APIClient, world: World) -> None:
    response = pl.post("/api/v1/pledges/", {
        "coalition": world.coalition.pk, "category": "troops", "unit": "personnel", "quantity": 150,
        "location": "Kyiv", "available_from": "2026-01-01", "available_until": "2026-12-31",
    }, format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert created | {"country": "PL", "status": "draft", "quantity": 150, "version": 1} == created
    assert response["ETag"] == f'"{created["id"]}-1"'
    url = f"/api/v1/pledges/{created['id']}/"

    response = pl.patch(url, {"quantity": 175}, format="json", HTTP_IF_MATCH=response["ETag"])
    assert response.status_code == 200 and response.json()["quantity"] == 175
    assert response.json()["location"] == "Kyiv"  # PATCH leaves the rest alone

    response = pl.put(url, {"category": "troops", "unit": "personnel", "quantity": 180}, format="json")
    assert response.status_code == 200
    assert response.json()["location"] == "" and response.json()["available_from"] is None  # PUT replaces

    response = pl.post(f"{url}transition/", {"status": "indicative"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "indicative"

    response = pl.delete(url)
    assert response.status_code == 400 and "status" in response.json()  # only drafts are deleted
    assert Pledge.objects.filter(pk=created["id"]).exists()


@pytest.mark.parametrize(("body", "field"), [
    ({"category": "nope"}, "category"),
    ({"quantity": -5}, "quantity"),
    ({"quantity": 0}, "quantity"),
    ({"quantity": 10**12}, "quantity"),
    ({"quantity": "many"}, "quantity"),
    ({"unit": "aircraft"}, "unit"),  # not a unit of troops
    ({"unit": "furlongs"}, "unit"),
    ({"available_from": "2026-06-01", "available_until": "2026-05-01"}, "available_until"),
    ({"available_from": "June"}, "available_from"),
    ({"estimated_value_eur": "-1"}, "estimated_value_eur"),
    ({"notice_to_move_days": 100000}, "notice_to_move_days"),
    ({"status": "confirmed"}, "status"),
    ({"releasability": "everyone"}, "releasability"),
    ({"coalition": 0}, "coalition"),
    ({"location": "x" * 201}, "location"),
])
def test_bad_pledge_input_is_400_with_the_field(pl: APIClient, world: World, body: dict[str, Any],
                                                field: str) -> None:
    base = {"coalition": world.coalition.pk, "category": "troops", "unit": "personnel", "quantity": 10}
    response = pl.post("/api/v1/pledges/", base | body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert not Pledge.objects.exists()


def test_not_a_member_is_400(client_for: Callable[[str], APIClient], world: World) -> None:
    response = client_for("ministry_us").post("/api/v1/pledges/", {
        "coalition": world.coalition.pk, "category": "troops", "unit": "personnel", "quantity": 10,
    }, format="json")
    assert response.status_code == 400 and "coalition" in response.json()


def test_illegal_transition_is_400(pl: APIClient, world: World) -> None:
    pledge = make_pledge(country=world.pl, coalition=world.coalition, status="indicative")
    response = pl.post(f"/api/v1/pledges/{pledge.pk}/transition/", {"status": "deployed"}, format="json")
    assert response.status_code == 400
    assert "cannot move from indicative to deployed" in response.json()["status"][0]
    response = pl.post(f"/api/v1/pledges/{pledge.pk}/transition/", {"status": "sideways"}, format="json")
    assert response.status_code == 400 and "status" in response.json()


def test_patch_unit_not_of_the_new_category(pl: APIClient, world: World) -> None:
    CategoryFactory(code="naval", unit_codes=["vessels"])
    pledge = make_pledge(country=world.pl, coalition=world.coalition, category=world.troops)
    response = pl.patch(f"/api/v1/pledges/{pledge.pk}/", {"category": "naval"}, format="json")
    assert response.status_code == 400
    assert "not a unit of naval" in response.json()["unit"][0]


# --- ETag / If-Match ---------------------------------------------------------------------------

def test_stale_if_match_is_412_and_changes_nothing(pl: APIClient, world: World) -> None:
    pledge = make_pledge(country=world.pl, coalition=world.coalition, quantity=100, status="indicative")
    url = f"/api/v1/pledges/{pledge.pk}/"
    etag = pl.get(url)["ETag"]
    assert etag == f'"{pledge.pk}-{pledge.version}"'

    fresh = pl.patch(url, {"quantity": 120}, format="json", HTTP_IF_MATCH=etag)
    assert fresh.status_code == 200 and fresh["ETag"] != etag

    for method, path, body in [
        ("patch", url, {"quantity": 999}),
        ("put", url, {"category": "troops", "unit": "personnel", "quantity": 999}),
        ("post", f"{url}transition/", {"status": "confirmed"}),
    ]:
        response = getattr(pl, method)(path, body, format="json", HTTP_IF_MATCH=etag)
        assert response.status_code == 412, (method, response.content)
        assert response.json()["current_version"] == pledge.version + 1
    for header in ("garbage", f'"{pledge.pk + 1}-{pledge.version + 1}"'):
        assert pl.patch(url, {"quantity": 999}, format="json", HTTP_IF_MATCH=header).status_code == 412
    pledge.refresh_from_db()
    assert (pledge.quantity, pledge.status) == (120, "indicative")

    assert pl.patch(url, {"quantity": 130}, format="json", HTTP_IF_MATCH="*").status_code == 200
    assert pl.patch(url, {"quantity": 140}, format="json",
                    HTTP_IF_MATCH=f'"1-1", {pl.get(url)["ETag"]}').status_code == 200


def test_stale_delete_is_412(pl: APIClient, world: World) -> None:
    pledge = make_pledge(country=world.pl, coalition=world.coalition)
    url = f"/api/v1/pledges/{pledge.pk}/"
    old = pl.get(url)["ETag"]
    pl.patch(url, {"quantity": 7}, format="json")
    assert pl.delete(url, HTTP_IF_MATCH=old).status_code == 412
    assert Pledge.objects.filter(pk=pledge.pk).exists()
    assert pl.delete(url, HTTP_IF_MATCH=pl.get(url)["ETag"]).status_code == 204
    assert not Pledge.objects.filter(pk=pledge.pk).exists()


def test_caveat_and_requirement_etags(pl: APIClient, client_for: Callable[[str], APIClient], world: World) -> None:
    response = pl.post("/api/v1/caveats/", {"coalition": world.coalition.pk, "kind": "condition",
                                            "text": "Only with air defence."}, format="json")
    assert response.status_code == 201
    url = f"/api/v1/caveats/{response.json()['id']}/"
    old = response["ETag"]
    assert pl.patch(url, {"rationale": "Threat from Belarus"}, format="json", HTTP_IF_MATCH=old).status_code == 200
    assert pl.post(f"{url}lift/", {}, format="json", HTTP_IF_MATCH=old).status_code == 412
    today = timezone.localdate().isoformat()
    lifted = pl.post(f"{url}lift/", {"lifted_on": today}, format="json")
    assert lifted.status_code == 200 and lifted.json()["is_active"] is False and lifted.json()["lifted_on"] == today
    again = pl.post(f"{url}lift/", {}, format="json")
    assert again.status_code == 400 and "is_active" in again.json()

    sec = client_for("secretariat")
    response = sec.post("/api/v1/requirements/", {"coalition": world.coalition.pk, "category": "troops",
                                                  "unit": "personnel", "quantity": 1000}, format="json")
    assert response.status_code == 201
    again = sec.post("/api/v1/requirements/", {"coalition": world.coalition.pk, "category": "troops",
                                               "unit": "personnel", "quantity": 1100}, format="json")
    assert again.status_code == 200 and again.json()["quantity"] == 1100
    url = f"/api/v1/requirements/{response.json()['id']}/"
    assert sec.patch(url, {"quantity": 5}, format="json", HTTP_IF_MATCH=response["ETag"]).status_code == 412
    bad = sec.post("/api/v1/requirements/", {"coalition": world.coalition.pk, "category": "troops",
                                             "unit": "aircraft", "quantity": 10}, format="json")
    assert bad.status_code == 400 and "unit" in bad.json()


# --- CSV ---------------------------------------------------------------------------------------

def test_csv_export(analyst: APIClient, world: World) -> None:
    make_pledge(country=world.pl, coalition=world.coalition, quantity=10, status="indicative",
                description='=HYPERLINK("http://evil","x")', location="+Kyiv")
    make_pledge(country=world.fr, coalition=world.coalition, quantity=20, status="indicative",
                description="-2+3", location="@SUM(A1)")
    make_pledge(country=world.gb, coalition=world.coalition, quantity=30, status="indicative",
                description="\tTabbed", location="Lviv, \"west\"")
    response = analyst.get("/api/v1/pledges/?format=csv&page_size=1")  # pages do not apply to CSV
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(content_of(response).decode())))
    assert rows[0] == list(PLEDGE_CSV_COLUMNS)  # the JSON columns, the place as its id and its name
    assert len(rows) == 4
    by_country = {row[1]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    assert [row[1] for row in rows[1:]] == ["FR", "PL", "GB"]
    assert by_country["PL"]["description"] == '\'=HYPERLINK("http://evil","x")'
    assert by_country["PL"]["location"] == "'+Kyiv"
    assert by_country["FR"]["description"] == "'-2+3"
    assert by_country["FR"]["location"] == "'@SUM(A1)"
    assert by_country["GB"]["description"] == "'\tTabbed"
    assert by_country["GB"]["location"] == 'Lviv, "west"'
    assert by_country["GB"]["quantity"] == "30" and by_country["GB"]["is_conditional"] == "false"

    filtered = analyst.get("/api/v1/pledges/?format=csv&country=FR")
    assert len(list(csv.reader(io.StringIO(content_of(filtered).decode())))) == 2

    bad = analyst.get("/api/v1/pledges/?format=csv&status=bogus")
    assert bad.status_code == 400 and bad["Content-Type"] == "application/json"
    assert "status" in bad.json()
    assert analyst.get(f"/api/v1/pledges/{Pledge.objects.first().pk}/?format=csv").status_code == 404
