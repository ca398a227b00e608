"""Places on pledges: the services' theatre rule, the admin's place box, history, the data migration that places
free-text locations, and the demo's places."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError

from places.models import Place
from pledges import services
from pledges.history import PledgeEvent, pledge_versions
from pledges.models import Pledge
from tests.conftest import World
from tests.factories import make_pledge
from tests.pledges.test_admin import ADD, change_data, change_url, client_for, management

KYIV, ODESA, LVIV, RZESZOW, PARIS = 703448, 698740, 702550, 759734, 2988507

pytestmark = pytest.mark.usefixtures("gazetteer")


def test_a_pledge_is_placed_within_its_coalitions_theatre_by_every_service(world: World) -> None:
    world.coalition.theatre = ["UA", "PL"]
    world.coalition.save()
    with pytest.raises(ValidationError) as refused:
        services.pledge_create(actor=world.ministry_pl, coalition=world.coalition, category=world.troops,
                               unit=world.personnel, quantity=10, place=Place.objects.get(pk=PARIS))
    assert "place" in refused.value.message_dict
    pledge = services.pledge_create(actor=world.ministry_pl, coalition=world.coalition, category=world.troops,
                                    unit=world.personnel, quantity=10, place=Place.objects.get(pk=KYIV))
    with pytest.raises(ValidationError) as refused:
        services.pledge_update(actor=world.ministry_pl, pledge=pledge, place=Place.objects.get(pk=PARIS))
    assert "outside the theatre" in refused.value.message_dict["place"][0]
    assert Pledge.objects.get(pk=pledge.pk).place_id == KYIV


def test_the_coalitions_theatre_takes_only_iso_codes(world: World) -> None:
    world.coalition.theatre = ["UA", "XX"]
    with pytest.raises(ValidationError) as refused:
        world.coalition.full_clean()
    assert "theatre" in refused.value.message_dict


def test_the_admin_places_a_pledge_through_the_place_box_and_history_keeps_the_move(world: World) -> None:
    client = client_for(world.ministry_pl)
    page = client.get(ADD).content.decode()
    assert 'data-ajax--url="/admin/autocomplete/"' in page and 'name="place"' in page
    created = client.post(ADD, {
        "coalition": world.coalition.pk, "category": world.troops.pk, "unit": world.personnel.pk, "quantity": 80,
        "status": "indicative", "description": "Placed company", "location": "north of the city", "place": KYIV,
        "releasability": "secretariat", **management(0, 0)})
    assert created.status_code == 302, created.context["adminform"].form.errors
    pledge = Pledge.objects.get(description="Placed company")
    assert (pledge.place_id, pledge.location) == (KYIV, "north of the city")
    moved = client.post(change_url(pledge), change_data(pledge, place=LVIV))
    assert moved.status_code == 302
    assert Pledge.objects.get(pk=pledge.pk).place_id == LVIV
    events = PledgeEvent.objects.filter(pgh_obj_id=pledge.pk).order_by("pgh_id")
    assert list(events.values_list("place_id", flat=True)) == [KYIV, LVIV]
    assert events.last().pgh_context.metadata["username"] == "ministry-pl"  # type: ignore[union-attr]
    history = client.get(change_url(pledge).replace("/change/", "/history/")).content.decode()
    assert "Lviv (UA)" in history
    refused = client.post(change_url(pledge), change_data(Pledge.objects.get(pk=pledge.pk), place=999_999_999))
    assert refused.status_code == 200 and "place" in refused.context["adminform"].form.errors


def test_the_data_migration_places_a_location_that_names_one_place_and_leaves_the_rest_as_text(
    world: World,
) -> None:
    migration = importlib.import_module("pledges.migrations.0017_place_free_text_locations")
    texts = {"Kyiv": KYIV, "kiev": KYIV, "Rzeszów": RZESZOW, "Odesa": ODESA, "Eastern Poland": None,
             "Paris": None, "Kyiv, Lviv, Odesa": None, "": None}
    pledges = {text: make_pledge(country=world.pl, coalition=world.coalition, category=world.troops,
                                 status="indicative", location=text) for text in texts}
    versions = {text: p.version for text, p in pledges.items()}
    migration.place_locations(apps, None)
    for text, expected in texts.items():
        pledge = Pledge.objects.get(pk=pledges[text].pk)
        assert pledge.place_id == expected, text  # "Paris": France's and two more of that name: not one place
        assert pledge.location == text  # the words stay
        assert pledge.version == versions[text] + (1 if expected else 0)
    placed = pledge_versions(user=world.secretariat, pledge_id=pledges["Kyiv"].pk)[-1]
    assert placed.row.pgh_context.metadata["username"] == "system"
    migration.place_locations(apps, None)  # again: nothing more
    assert Pledge.objects.get(pk=pledges["Kyiv"].pk).version == versions["Kyiv"] + 1


def test_the_data_migration_keeps_within_the_theatre(world: World) -> None:
    migration = importlib.import_module("pledges.migrations.0017_place_free_text_locations")
    world.coalition.theatre = ["FR"]
    world.coalition.save()
    paris = make_pledge(country=world.pl, coalition=world.coalition, category=world.troops, location="Paris")
    kyiv = make_pledge(country=world.pl, coalition=world.coalition, category=world.troops, location="Kyiv")
    migration.place_locations(apps, None)
    assert Pledge.objects.get(pk=paris.pk).place_id == PARIS  # the only Paris in the theatre
    assert Pledge.objects.get(pk=kyiv.pk).place_id is None  # Kyiv is outside it
