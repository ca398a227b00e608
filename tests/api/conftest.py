"""API test helpers: clients per role, a small scene of pledges, caveats and a requirement, an object of every
kind the schema's paths name, and throttles raised out of the way."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import User
from meetings import services as meeting_services
from meetings.models import AgendaItem
from outcomes import services as outcome_services
from places.models import Place
from pledges import services
from pledges.models import Caveat, Pledge, Requirement
from tests.conftest import World
from tests.factories import make_pledge
from tests.meetings.conftest import upcoming_meeting

ROLES = ("anonymous", "ministry_pl", "ministry_fr", "analyst", "secretariat", "admin")


@pytest.fixture(autouse=True)
def _fresh_throttles() -> Iterator[None]:
    """Throttle counters live in the (Redis) cache; every test starts with none."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def client_for(world: World) -> Callable[[str], APIClient]:
    """An API client acting as one of ROLES (users from the `world` fixture)."""

    def make(role: str) -> APIClient:
        client = APIClient()
        if role != "anonymous":
            # A fresh copy, as each real request loads its user (visibility caches on the user object).
            user = User.objects.get(pk=getattr(world, role).pk)
            client.force_authenticate(user)
        return client

    return make


@dataclass
class Scene:
    offered: Pledge  # PL, indicative, released to the secretariat only
    released: Pledge  # PL, indicative, released to the whole coalition
    draft: Pledge  # PL draft
    caveat: Caveat  # PL country-wide caveat on the coalition, secretariat only
    requirement: Requirement


@pytest.fixture
def scene(world: World) -> Scene:
    offered = make_pledge(country=world.pl, coalition=world.coalition, category=world.troops, quantity=300,
                          status="indicative")
    released = make_pledge(country=world.pl, coalition=world.coalition, category=world.air, unit=world.aircraft,
                           quantity=4, status="indicative", releasability="coalition")
    draft = make_pledge(country=world.pl, coalition=world.coalition, category=world.troops, quantity=50)
    caveat = services.caveat_add(actor=world.ministry_pl, coalition=world.coalition, kind="geographic",
                                 text="Not east of the Dnipro.", rationale="Threat assessment")
    requirement = services.requirement_set(actor=world.secretariat, coalition=world.coalition, category=world.troops,
                                           unit=world.personnel, quantity=1000)
    return Scene(offered=offered, released=released, draft=draft, caveat=caveat, requirement=requirement)


@pytest.fixture
def unthrottled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Raise every throttle rate (user, anonymous, login) far above what a test sends: tests that walk the whole
    API (or fuzz it) are about the answers, not the rate limit, which would otherwise answer most of them 429."""
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES",
                        dict.fromkeys(SimpleRateThrottle.THROTTLE_RATES, "1000000/min"))


@dataclass
class Objects:
    """One object of every kind the API names in a path (a pledge, caveat, tranche, requirement, meeting, agenda
    item, invitation, brief, import, coalition, country, category, place, condition, outcome), for tests that walk
    the schema."""

    ids: dict[tuple[str, str], str]  # (resource, path parameter) -> value, e.g. ("pledges", "id") -> "12"
    etags: dict[str, str]  # resource -> the ETag of its object

    def fill(self, template: str, **override: str) -> str:
        """A path of the schema (/api/v1/meetings/{id}/agenda/{item_id}/) with these objects, or `override`."""
        resource = template.split("/")[3]
        for name in re.findall(r"\{(\w+)\}", template):
            value = override.get(name) or self.ids.get((resource, name))
            assert value is not None, f"no {resource} object for {{{name}}} in {template}: add one to `objects`"
            template = template.replace("{" + name + "}", value)
        return template


@pytest.fixture
def objects(world: World, gazetteer: None) -> Objects:
    offered = make_pledge(country=world.pl, coalition=world.coalition, category=world.troops, unit=world.personnel,
                          quantity=300, status="indicative", releasability="coalition")
    make_pledge(country=world.pl, coalition=world.coalition, category=world.troops, unit=world.personnel,
                quantity=20, status="draft")
    caveat = services.caveat_add(actor=world.ministry_pl, pledge=offered, kind="geographic",
                                 text="Not east of the Dnipro.", rationale="Threat assessment")
    delivery = services.delivery_plan(actor=world.ministry_pl, pledge=offered, quantity=100,
                                      planned_on=timezone.localdate())
    requirement = services.requirement_set(actor=world.secretariat, coalition=world.coalition,
                                           category=world.troops, unit=world.personnel, quantity=1000)
    meeting = upcoming_meeting(world)
    item = AgendaItem.objects.filter(meeting=meeting).order_by("position").first()
    assert item is not None
    brief = meeting_services.brief_request(actor=world.secretariat, meeting=meeting, queue=False)
    upload = APIClient()
    upload.force_authenticate(world.ministry_pl)
    csv = b"category,unit,quantity,status\ntroops,personnel,five,draft\n"
    imported = upload.post("/api/v1/imports/", {"coalition": world.coalition.pk,
                                                "file": SimpleUploadedFile("pledges.csv", csv, "text/csv")},
                           format="multipart")
    assert imported.status_code == 201, imported.content
    place = Place.objects.order_by("pk").first()
    assert place is not None, "the gazetteer is loaded by a migration"
    condition = services.condition_create(actor=world.secretariat, coalition=world.coalition, name="Ceasefire")
    outcome = outcome_services.outcome_record(actor=world.secretariat, meeting=meeting, kind="action",
                                              text="Confirm the logistics hub.", owner=world.pl,
                                              due_on=timezone.localdate())
    ids = {
        ("pledges", "id"): str(offered.pk), ("caveats", "id"): str(caveat.pk), ("deliveries", "id"): str(delivery.pk),
        ("requirements", "id"): str(requirement.pk), ("meetings", "id"): str(meeting.pk),
        ("meetings", "item_id"): str(item.pk), ("meetings", "country_code"): "PL", ("briefs", "id"): str(brief.pk),
        ("imports", "id"): str(imported.json()["id"]), ("coalitions", "id"): str(world.coalition.pk),
        ("countries", "code"): "PL", ("categories", "code"): "troops", ("places", "id"): str(place.pk),
        ("conditions", "id"): str(condition.pk), ("outcomes", "id"): str(outcome.pk),
    }
    etags = {"pledges": f'"{offered.pk}-{offered.version}"', "caveats": f'"{caveat.pk}-{caveat.version}"',
             "deliveries": f'"{delivery.pk}-{delivery.version}"',
             "requirements": f'"{requirement.pk}-{requirement.version}"', "meetings": f'"{meeting.pk}-1"',
             "conditions": f'"{condition.pk}-{condition.version}"', "outcomes": f'"{outcome.pk}-{outcome.version}"'}
    return Objects(ids=ids, etags=etags)
