"""A pledge's place in the API (read, written by GeoNames id, refused with 400s naming `place`) and the coalition's
map as GeoJSON, through the same visibility rule as every other read."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from places.models import Place
from pledges import services
from pledges.history import PledgeEvent
from pledges.models import Pledge
from tests.conftest import World
from tests.factories import make_pledge
from tests.http import content_of

KYIV, ODESA, LVIV, RZESZOW, PARIS = 703448, 698740, 702550, 759734, 2988507

pytestmark = pytest.mark.usefixtures("gazetteer")


def place(pk: int) -> Place:
    return Place.objects.get(pk=pk)


def test_a_pledge_shows_its_place_beside_its_location_in_json_and_csv(
    world: World, client_for: Callable[[str], APIClient]
) -> None:
    placed = make_pledge(country=world.pl, coalition=world.coalition, category=world.troops, status="indicative",
                         location="Rzeszów hub, east of the city", place=place(RZESZOW), releasability="coalition")
    unplaced = make_pledge(country=world.pl, coalition=world.coalition, category=world.troops, status="indicative",
                           location="Eastern Poland", releasability="coalition")
    client = client_for("ministry_fr")
    detail = client.get(f"/api/v1/pledges/{placed.pk}/").json()
    assert detail["location"] == "Rzeszów hub, east of the city"
    assert detail["place"] == {"id": RZESZOW, "name": "Rzeszów", "country": "PL", "lat": pytest.approx(50.04, abs=0.01),
                               "lon": pytest.approx(22.0, abs=0.01)}
    rows = {r["id"]: r for r in client.get("/api/v1/pledges/", {"coalition": world.coalition.pk}).json()["results"]}
    assert rows[placed.pk] == detail  # the list's fast path gives what the serializer gives
    assert rows[unplaced.pk]["place"] is None and rows[unplaced.pk]["location"] == "Eastern Poland"
    text = content_of(client.get("/api/v1/pledges/", {"coalition": world.coalition.pk, "format": "csv"})).decode()
    by_id = {row["id"]: row for row in csv.DictReader(io.StringIO(text))}
    assert (by_id[str(placed.pk)]["place"], by_id[str(placed.pk)]["place_name"]) == (str(RZESZOW), "Rzeszów")
    assert (by_id[str(unplaced.pk)]["place"], by_id[str(unplaced.pk)]["place_name"]) == ("", "")


def test_ministry_staff_set_change_and_clear_a_place_by_its_geonames_id(
    world: World, client_for: Callable[[str], APIClient]
) -> None:
    client = client_for("ministry_pl")
    created = client.post("/api/v1/pledges/", {"coalition": world.coalition.pk, "category": "troops",
                                               "unit": "personnel", "quantity": 120, "place": KYIV}, format="json")
    assert created.status_code == 201, created.content
    pledge_id = created.json()["id"]
    assert created.json()["place"]["name"] == "Kyiv"
    etag = created["ETag"]
    # the place object as read is taken back as it is (its id decides)
    moved = client.patch(f"/api/v1/pledges/{pledge_id}/", {"place": {**created.json()["place"], "id": ODESA}},
                         format="json", HTTP_IF_MATCH=etag)
    assert moved.status_code == 200, moved.content
    assert moved.json()["place"]["name"] == "Odesa"
    cleared = client.patch(f"/api/v1/pledges/{pledge_id}/", {"place": None}, format="json",
                           HTTP_IF_MATCH=moved["ETag"])
    assert cleared.json()["place"] is None
    by_string = client.patch(f"/api/v1/pledges/{pledge_id}/", {"place": str(LVIV)}, format="json")
    assert by_string.json()["place"]["id"] == LVIV
    history = client.get(f"/api/v1/pledges/{pledge_id}/history/")
    if history.status_code == 200:
        assert "place" in str(history.json()) or "place_id" in str(history.json())


@pytest.mark.parametrize(("value", "says"), [
    (999_999_999, "No place has the id 999999999"),
    (2**70, "whole number"),
    (0, "whole number"),
    (-703448, "whole number"),
    (1.5, "whole number"),
    (True, "whole number"),
    ("Kyiv", "whole number"),
    ("", "whole number"),
    ([KYIV], "whole number"),
    ({"name": "Kyiv"}, "whole number"),
    ({"lat": 95, "lon": 30}, "Latitude is -90 to 90"),
    ({"id": KYIV, "lat": 50, "lon": 200}, "Latitude is -90 to 90"),
    ({"lat": "north", "lon": 30}, "Latitude is -90 to 90"),
])
def test_a_bad_place_is_a_400_naming_place_and_changes_nothing(
    world: World, client_for: Callable[[str], APIClient], value: Any, says: str
) -> None:
    pledge = make_pledge(country=world.pl, coalition=world.coalition, category=world.troops, status="indicative")
    client = client_for("ministry_pl")
    for answer in (
        client.patch(f"/api/v1/pledges/{pledge.pk}/", {"place": value}, format="json"),
        client.post("/api/v1/pledges/", {"coalition": world.coalition.pk, "category": "troops", "unit": "personnel",
                                         "quantity": 5, "place": value}, format="json"),
    ):
        assert answer.status_code == 400, answer.content
        assert list(answer.json()) == ["place"]
        assert says in answer.json()["place"][0]
    assert Pledge.objects.get(pk=pledge.pk).version == pledge.version
    assert Pledge.objects.filter(coalition=world.coalition).count() == 1


def test_a_place_outside_the_coalitions_theatre_is_a_400_naming_place(
    world: World, client_for: Callable[[str], APIClient]
) -> None:
    world.coalition.theatre = ["UA", "PL", "RO"]
    world.coalition.save()
    pledge = make_pledge(country=world.pl, coalition=world.coalition, category=world.troops, status="indicative",
                         place=place(KYIV))
    client = client_for("ministry_pl")
    answer = client.patch(f"/api/v1/pledges/{pledge.pk}/", {"place": PARIS}, format="json")
    assert answer.status_code == 400
    assert "outside the theatre" in answer.json()["place"][0] and "UA, PL, RO" in answer.json()["place"][0]
    assert Pledge.objects.get(pk=pledge.pk).place_id == KYIV
    assert client.patch(f"/api/v1/pledges/{pledge.pk}/", {"place": RZESZOW}, format="json").status_code == 200
    # the other coalition names no theatre: anywhere goes
    other = client.post("/api/v1/pledges/", {"coalition": world.other_coalition.pk, "category": "troops",
                                             "unit": "personnel", "quantity": 5, "place": PARIS}, format="json")
    assert other.status_code == 201


# --- the map -------------------------------------------------------------------------------------

def features(answer: Any) -> dict[int, dict[str, Any]]:
    return {f["id"]: f for f in answer.json()["features"]}


def test_the_map_is_geojson_one_point_per_place_with_the_pledges_and_amounts_there(
    world: World, client_for: Callable[[str], APIClient], django_assert_max_num_queries: Any
) -> None:
    kyiv_troops = make_pledge(country=world.pl, coalition=world.coalition, category=world.troops, quantity=300,
                              status="confirmed", place=place(KYIV), releasability="coalition")
    kyiv_more = make_pledge(country=world.gb, coalition=world.coalition, category=world.troops, quantity=200,
                            status="indicative", place=place(KYIV))
    kyiv_air = make_pledge(country=world.fr, coalition=world.coalition, category=world.air, unit=world.aircraft,
                           quantity=4, status="deployed", place=place(KYIV))
    odesa = make_pledge(country=world.gb, coalition=world.coalition, category=world.air, unit=world.aircraft,
                        quantity=2, status="indicative", place=place(ODESA))
    make_pledge(country=world.gb, coalition=world.coalition, category=world.troops, quantity=50, status="indicative",
                location="Western Ukraine")
    make_pledge(country=world.fr, coalition=world.coalition, category=world.troops, quantity=70, status="withdrawn",
                place=place(LVIV))
    client = client_for("secretariat")
    with django_assert_max_num_queries(12):
        answer = client.get(f"/api/v1/coalitions/{world.coalition.pk}/map/")
    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/geo+json"
    body = answer.json()
    assert body["type"] == "FeatureCollection" and body["coalition"] == world.coalition.pk
    assert body["unplaced_pledges"] == 1
    points = features(answer)
    assert set(points) == {KYIV, ODESA}  # one feature per place; a withdrawn pledge is not there
    for feature in body["features"]:
        assert feature["type"] == "Feature" and feature["geometry"]["type"] == "Point"
        lon, lat = feature["geometry"]["coordinates"]
        assert -180 <= lon <= 180 and -90 <= lat <= 90
        assert (lat, lon) == (feature["properties"]["place"]["lat"], feature["properties"]["place"]["lon"])
    kyiv = points[KYIV]["properties"]
    assert kyiv["place"]["name"] == "Kyiv" and kyiv["place"]["country"] == "UA"
    assert kyiv["pledges"] == sorted([kyiv_troops.pk, kyiv_more.pk, kyiv_air.pk])
    assert kyiv["quantities"] == [
        {"category": "troops", "category_name": world.troops.name, "unit": "personnel", "quantity": 500,
         "confirmed": 300},
        {"category": "air", "category_name": world.air.name, "unit": "aircraft", "quantity": 4, "confirmed": 4},
    ] or kyiv["quantities"] == [
        {"category": "air", "category_name": world.air.name, "unit": "aircraft", "quantity": 4, "confirmed": 4},
        {"category": "troops", "category_name": world.troops.name, "unit": "personnel", "quantity": 500,
         "confirmed": 300},
    ]
    assert kyiv["troops_personnel"] == 500 and kyiv["air_aircraft"] == 4
    assert points[ODESA]["properties"]["pledges"] == [odesa.pk]
    assert kyiv["weight"] == pytest.approx(3 / 5) and points[ODESA]["properties"]["weight"] == pytest.approx(1 / 5)
    assert client.get(f"/api/v1/coalitions/{world.coalition.pk}/map/", HTTP_ACCEPT="application/json"
                      ).status_code == 200


def test_ministry_pl_never_sees_a_french_drafts_place_nor_a_place_only_the_secretariat_may_see(
    world: World, client_for: Callable[[str], APIClient]
) -> None:
    make_pledge(country=world.fr, coalition=world.coalition, category=world.troops, status="draft", place=place(LVIV))
    make_pledge(country=world.fr, coalition=world.coalition, category=world.troops, status="indicative",
                place=place(ODESA))  # released to the secretariat only
    shared = make_pledge(country=world.fr, coalition=world.coalition, category=world.troops, status="confirmed",
                         place=place(KYIV), releasability="coalition")
    own_draft = make_pledge(country=world.pl, coalition=world.coalition, category=world.troops, place=place(RZESZOW))
    url = f"/api/v1/coalitions/{world.coalition.pk}/map/"
    seen_by_pl = client_for("ministry_pl").get(url)
    assert set(features(seen_by_pl)) == {KYIV}, "a draft is never on a map, its own country's included"
    assert features(seen_by_pl)[KYIV]["properties"]["pledges"] == [shared.pk]
    assert "Lviv" not in seen_by_pl.content.decode() and "Odesa" not in seen_by_pl.content.decode()
    assert set(features(client_for("secretariat").get(url))) == {KYIV, ODESA}
    assert set(features(client_for("ministry_fr").get(url))) == {KYIV, ODESA}
    assert own_draft.place_id == RZESZOW
    assert client_for("ministry_us").get(url).status_code == 404  # not a member of the coalition
    assert client_for("anonymous").get(url).status_code == 401


def test_the_map_as_of_a_moment_shows_the_places_as_they_stood(
    world: World, client_for: Callable[[str], APIClient]
) -> None:
    pledge = make_pledge(country=world.pl, coalition=world.coalition, category=world.troops, status="indicative",
                         place=place(KYIV))
    # Written today, in this test's one transaction: move its history back three days, then move it to Lviv.
    PledgeEvent.objects.filter(pgh_superseded_at__isnull=False).update(pgh_superseded_at=timezone.now()
                                                                       - dt.timedelta(days=3))
    PledgeEvent.objects.update(pgh_created_at=timezone.now() - dt.timedelta(days=3))
    before_move = timezone.now() - dt.timedelta(days=1)
    services.pledge_update(actor=world.ministry_pl, pledge=pledge, place=place(LVIV))
    client = client_for("analyst")
    url = f"/api/v1/coalitions/{world.coalition.pk}/map/"
    assert set(features(client.get(url))) == {LVIV}
    assert set(features(client.get(url, {"as_of": before_move.isoformat()}))) == {KYIV}
    long_ago = (timezone.now() - dt.timedelta(days=10)).isoformat()
    assert features(client.get(url, {"as_of": long_ago})) == {}
    bad = client.get(url, {"as_of": "yesterday"})
    assert bad.status_code == 400 and "as_of" in bad.json()
