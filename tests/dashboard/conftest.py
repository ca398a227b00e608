"""A coalition with something in every panel: a requirement, offers confirmed, indicative and conditional,
tranches delivered and overdue, a stale offer, drafts of two countries, and a meeting with answers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.utils import timezone

from meetings.models import Meeting
from pledges import services
from pledges.models import Pledge
from tests.conftest import World
from tests.factories import make_pledge
from tests.meetings.conftest import upcoming_meeting
from utilities.versioning import SystemActor

PL_DRAFT = "Polish draft: special forces, not yet offered"
FR_DRAFT = "French draft: frigate, not for other countries"


@dataclass
class Scene:
    pl_confirmed: Pledge
    pl_stale: Pledge
    pl_draft: Pledge
    fr_draft: Pledge
    meeting: Meeting


def build_scene(world: World) -> Scene:
    services.requirement_set(actor=world.secretariat, coalition=world.coalition, category=world.troops,
                             unit=world.personnel, quantity=5000)
    confirmed = make_pledge(country=world.pl, coalition=world.coalition, category=world.troops,
                            unit=world.personnel, quantity=1200, status="confirmed", description="Logistics battalion",
                            releasability="coalition")
    today = timezone.localdate()
    services.delivery_plan(actor=world.ministry_pl, pledge=confirmed, quantity=400,
                           planned_on=today - dt.timedelta(days=20), delivered_on=today - dt.timedelta(days=18))
    services.delivery_plan(actor=world.ministry_pl, pledge=confirmed, quantity=300,
                           planned_on=today - dt.timedelta(days=5))
    fr = make_pledge(country=world.fr, coalition=world.coalition, category=world.troops, unit=world.personnel,
                     quantity=800, status="indicative", description="Armoured battlegroup")
    services.caveat_add(actor=world.ministry_fr, pledge=fr, kind="condition", text="Only once a ceasefire holds.")
    make_pledge(country=world.gb, coalition=world.coalition, category=world.air, unit=world.aircraft,
                quantity=12, status="confirmed", description="Typhoon detachment", releasability="coalition")
    stale = make_pledge(country=world.pl, coalition=world.coalition, category=world.air, unit=world.aircraft,
                        quantity=4, status="confirmed", description="Helicopters", releasability="coalition")
    stale = services.pledge_reconfirm(actor=SystemActor("test"), system=True, pledge=stale,
                                      at=timezone.now() - dt.timedelta(days=200))
    pl_draft = make_pledge(country=world.pl, coalition=world.coalition, category=world.troops,
                           unit=world.personnel, quantity=90, description=PL_DRAFT)
    fr_draft = make_pledge(country=world.fr, coalition=world.coalition, category=world.troops,
                           unit=world.personnel, quantity=700, description=FR_DRAFT, location="Brest")
    return Scene(pl_confirmed=confirmed, pl_stale=stale, pl_draft=pl_draft, fr_draft=fr_draft,
                 meeting=upcoming_meeting(world))


@pytest.fixture
def scene(world: World) -> Scene:
    return build_scene(world)
