"""The admin of time and conditions: the secretariat names and decides conditions; a caveat names one; a pledge
names the pledge it relieves, chosen among those its writer sees."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from pledges import services
from pledges.models import Condition, Pledge
from tests.conftest import World
from tests.factories import make_pledge
from tests.pledges.test_admin import change_data, client_for

pytestmark = pytest.mark.django_db


def test_the_secretariat_names_and_decides_a_condition(world: World) -> None:
    secretariat = client_for(world.secretariat)
    added = secretariat.post(reverse("admin:pledges_condition_add"), {
        "coalition": world.coalition.pk, "name": "Ceasefire in force", "description": "", "status": "open",
        "decided_on": ""})
    assert added.status_code == 302, added.content.decode()[:2000]
    condition = Condition.objects.get(name="Ceasefire in force")
    decided = secretariat.post(reverse("admin:pledges_condition_change", args=[condition.pk]), {
        "name": condition.name, "description": "Holding since March.", "status": "failed", "decided_on": "",
        "seen_version": condition.version})
    assert decided.status_code == 302, decided.content.decode()[:2000]
    condition.refresh_from_db()
    assert (condition.status, condition.decided_on is not None, condition.version) == ("failed", True, 2)
    stale = secretariat.post(reverse("admin:pledges_condition_change", args=[condition.pk]), {
        "name": "Renamed", "description": "", "status": "open", "decided_on": "", "seen_version": 1})
    assert stale.status_code == 200 and Condition.objects.get(pk=condition.pk).name == "Ceasefire in force"
    ministry = client_for(world.ministry_pl)
    assert ministry.get(reverse("admin:pledges_condition_change", args=[condition.pk])).status_code == 200
    assert ministry.post(reverse("admin:pledges_condition_add"), {
        "coalition": world.coalition.pk, "name": "Mine", "status": "open"}).status_code == 403
    assert client_for(world.ministry_us).get(
        reverse("admin:pledges_condition_change", args=[condition.pk]), follow=True).status_code in (200, 302, 404)
    assert not Condition.objects.filter(name="Mine").exists()


def test_a_pledge_names_the_one_it_relieves_from_those_its_writer_sees(world: World) -> None:
    seen = make_pledge(country=world.fr, coalition=world.coalition, category=world.troops, unit=world.personnel,
                       quantity=10, status="confirmed", releasability="coalition", description="Seen by PL")
    hidden = make_pledge(country=world.fr, coalition=world.coalition, category=world.troops, unit=world.personnel,
                         quantity=10, status="confirmed", description="Not released")
    mine = make_pledge(country=world.pl, coalition=world.coalition, category=world.troops, unit=world.personnel,
                       quantity=10, status="indicative")
    client = client_for(world.ministry_pl)
    url = reverse("admin:pledges_pledge_change", args=[mine.pk])
    page = client.get(url).content.decode()
    assert 'name="relieves"' in page
    found = client.get(reverse("admin:autocomplete"), {
        "app_label": "pledges", "model_name": "pledge", "field_name": "relieves", "term": ""})
    ids = {int(row["id"]) for row in json.loads(found.content)["results"]}
    assert seen.pk in ids and hidden.pk not in ids
    refused = client.post(url, change_data(mine, relieves=hidden.pk))
    assert refused.status_code == 200 and Pledge.objects.get(pk=mine.pk).relieves_id is None
    saved = client.post(url, change_data(mine, relieves=seen.pk))
    assert saved.status_code == 302, saved.content.decode()[:3000]
    assert Pledge.objects.get(pk=mine.pk).relieves_id == seen.pk


def test_a_caveat_names_a_condition_of_its_coalition_in_the_admin(world: World) -> None:
    condition = services.condition_create(actor=world.secretariat, coalition=world.coalition, name="Backstop")
    client = client_for(world.ministry_pl)
    added = client.post(reverse("admin:pledges_caveat_add"), {
        "coalition": world.coalition.pk, "pledge": "", "kind": "condition", "condition": condition.pk,
        "text": "Only with a backstop.", "rationale": "", "releasability": "coalition"})
    assert added.status_code == 302, added.content.decode()[:3000]
    assert world.pl.caveats.get().condition_id == condition.pk
    refused = client.post(reverse("admin:pledges_caveat_add"), {
        "coalition": world.coalition.pk, "pledge": "", "kind": "geographic", "condition": condition.pk,
        "text": "West only.", "rationale": "", "releasability": "coalition"})
    assert refused.status_code == 200 and world.pl.caveats.count() == 1
