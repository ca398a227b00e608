"""The gazetteer: GeoNames cities shipped with the product, found by any of their names, accents and case aside,
in the API, the admin's place box and the selector they share."""

from __future__ import annotations

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from places.gazetteer import MIN_POPULATION, ensure_gazetteer
from places.models import ADDED_FROM, Place, PlaceSource
from places.names import search_key
from places.selectors import places_matching
from tests.conftest import World

KYIV, ODESA, LVIV, RZESZOW, CONSTANTA = 703448, 698740, 702550, 759734, 680963

pytestmark = pytest.mark.usefixtures("gazetteer")


@pytest.mark.parametrize(("typed", "expected"), [
    ("Kyiv", KYIV), ("Kiev", KYIV), ("kiev", KYIV), ("Київ", KYIV), ("Kyjiw", KYIV),
    ("Odesa", ODESA), ("Odessa", ODESA), ("ODESA", ODESA),
    ("Lviv", LVIV), ("Lwów", LVIV), ("Lemberg", LVIV),
    ("Rzeszów", RZESZOW), ("Rzeszow", RZESZOW), ("rzeszÓw", RZESZOW),
    ("Constanța", CONSTANTA), ("Constanţa", CONSTANTA), ("Constanta", CONSTANTA),
])
def test_a_place_is_found_first_by_any_of_its_names_accents_and_case_aside(typed: str, expected: int) -> None:
    assert places_matching(typed).values_list("pk", flat=True)[0] == expected


def test_the_start_of_a_name_finds_it_and_the_largest_comes_first() -> None:
    found = list(places_matching("Rzesz")[:3])
    assert found[0].pk == RZESZOW
    assert places_matching("Kharki")[0].name == "Kharkiv"
    populations = [p.population for p in places_matching("Nova")[:20] if p.match == 1]  # type: ignore[attr-defined]
    assert populations == sorted(populations, reverse=True)


def test_nothing_typed_finds_nothing_and_a_country_filter_keeps_its_countries() -> None:
    assert not places_matching("   ").exists()
    assert not places_matching("|").exists()  # the key's separator is not a name
    assert {p.country_code for p in places_matching("Odessa", countries=["US"])} == {"US"}


def test_the_gazetteer_is_the_geonames_cities_and_loading_it_again_adds_nothing() -> None:
    count = Place.objects.filter(source=PlaceSource.GEONAMES).count()
    assert count > 60_000
    # GeoNames' "cities5000": towns of 5,000 people or more, and seats of government however small
    assert Place.objects.filter(population__gte=MIN_POPULATION).count() > 0.9 * count
    assert ensure_gazetteer() == 0
    assert Place.objects.filter(source=PlaceSource.GEONAMES).count() == count
    assert Place.objects.filter(pk__gte=ADDED_FROM).count() == 0


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(index=st.integers(min_value=0, max_value=60_000), upper=st.booleans())
def test_every_place_is_found_by_its_own_name_written_plainly(index: int, upper: bool) -> None:
    """Class: whatever the name (Łódź, Zaporizhzhya, Bila Tserkva), the plain spelling a user types finds the place."""
    place = Place.objects.filter(source=PlaceSource.GEONAMES).order_by("pk")[index]
    typed = search_key(place.name)
    if not typed:
        return
    assert places_matching(typed.upper() if upper else typed).filter(pk=place.pk).exists()


def test_the_api_searches_and_shows_a_place(world: World) -> None:
    client = APIClient()
    client.force_authenticate(world.ministry_pl)
    found = client.get("/api/v1/places/", {"search": "Kiev"})
    assert found.status_code == 200
    first = found.json()["results"][0]
    assert first == {"id": KYIV, "name": "Kyiv", "country": "UA", "lat": pytest.approx(50.45, abs=0.01),
                     "lon": pytest.approx(30.52, abs=0.01), "population": first["population"],
                     "source": "geonames"}
    assert client.get("/api/v1/places/", {"search": "Odessa", "country": "ua"}).json()["results"][0]["id"] == ODESA
    assert client.get(f"/api/v1/places/{LVIV}/").json()["name"] == "Lviv"
    assert client.get("/api/v1/places/999999999999/").status_code == 404
    bad = client.get("/api/v1/places/", {"country": "Ukraine"})
    assert bad.status_code == 400 and "country" in bad.json()
    assert APIClient().get("/api/v1/places/", {"search": "Kiev"}).status_code == 401


def test_the_admins_place_box_finds_kiev_for_ministry_staff(world: World, client: Client) -> None:
    client.force_login(world.ministry_pl)
    answer = client.get("/admin/autocomplete/", {"app_label": "pledges", "model_name": "pledge",
                                                 "field_name": "place", "term": "Kiev"})
    assert answer.status_code == 200
    results = answer.json()["results"]
    assert results[0] == {"id": str(KYIV), "text": "Kyiv (UA)"}
    listing = client.get("/admin/places/place/", {"q": "Constanta"})
    assert listing.status_code == 200 and "Constanţa" in listing.content.decode()


def test_administrators_add_a_place_geonames_lacks_and_coordinates_out_of_range_are_refused(
    world: World, client: Client
) -> None:
    client.force_login(world.admin)
    refused = client.post("/admin/places/place/add/", {"name": "Jasionka air base", "country_code": "PL",
                                                       "latitude": "95", "longitude": "21.9"})
    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors["latitude"]
    refused = client.post("/admin/places/place/add/", {"name": "Jasionka air base", "country_code": "XX",
                                                       "latitude": "50.1", "longitude": "200"})
    errors = refused.context["adminform"].form.errors
    assert "country_code" in errors and "longitude" in errors
    assert not Place.objects.filter(name="Jasionka air base").exists()
    added = client.post("/admin/places/place/add/", {"name": "Jasionka air base", "country_code": "pl",
                                                     "latitude": "50.11", "longitude": "22.02"})
    assert added.status_code == 302
    place = Place.objects.get(name="Jasionka air base")
    assert place.pk >= ADDED_FROM and place.country_code == "PL" and place.source == PlaceSource.ADDED
    assert places_matching("jasionka").first() == place
    assert client.post(f"/admin/places/place/{place.pk}/delete/").status_code == 403  # never deleted


def test_only_administrators_add_places_and_nobody_changes_a_geonames_place(world: World, client: Client) -> None:
    client.force_login(world.ministry_pl)
    assert client.get("/admin/places/place/add/").status_code == 403
    assert client.post("/admin/places/place/add/", {"name": "X", "country_code": "PL", "latitude": "1",
                                                    "longitude": "1"}).status_code == 403
    client.force_login(world.admin)
    client.post(f"/admin/places/place/{KYIV}/change/", {"name": "Kiev", "country_code": "UA", "latitude": "1",
                                                        "longitude": "1"})
    assert Place.objects.get(pk=KYIV).name == "Kyiv"
