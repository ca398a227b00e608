"""A coalition with something in every panel: a requirement, offers confirmed, indicative and conditional,
tranches delivered and overdue, a stale offer, drafts of two countries, and a meeting with answers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.utils import timezone

from meetings.models import Meeting
from pledges import services
from pledges.models import Condition, Pledge
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


@dataclass
class TimeScene:
    """The scene, and in time: a Polish rotation of troops handed over to a British one after a two-week hole,
    an Italian-like offer that ends with nobody relieving it, and two named conditions: a US backstop that a
    British air offer (released to the coalition) and a French troop offer (the secretariat's eyes only) hang on,
    and a ceasefire nothing hangs on."""

    base: Scene
    month: dt.date  # the first day of the current month
    first_rotation: Pledge
    second_rotation: Pledge
    ending: Pledge
    backstop: Condition
    ceasefire: Condition


def month_after(month: dt.date, count: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + count
    return dt.date(index // 12, index % 12 + 1, 1)


def build_time_scene(world: World) -> TimeScene:
    base = build_scene(world)
    month = timezone.localdate().replace(day=1)
    handover = month_after(month, 3) + dt.timedelta(days=9)  # the first rotation's last day
    first = make_pledge(country=world.pl, coalition=world.coalition, category=world.troops, unit=world.personnel,
                        quantity=600, status="confirmed", releasability="coalition", description="First rotation",
                        available_from=month, available_until=handover)
    second = make_pledge(country=world.gb, coalition=world.coalition, category=world.troops, unit=world.personnel,
                         quantity=650, status="confirmed", releasability="coalition", description="Second rotation",
                         available_from=handover + dt.timedelta(days=15), available_until=month_after(month, 9),
                         relieves=first)
    ending = make_pledge(country=world.fr, coalition=world.coalition, category=world.air, unit=world.aircraft,
                         quantity=6, status="indicative", releasability="coalition", description="Rafale detachment",
                         available_until=month_after(month, 5) + dt.timedelta(days=20))
    backstop = services.condition_create(actor=world.secretariat, coalition=world.coalition,
                                         name="United States backstop")
    ceasefire = services.condition_create(actor=world.secretariat, coalition=world.coalition,
                                          name="Ceasefire in force")
    air_gb = Pledge.objects.get(country=world.gb, coalition=world.coalition, category=world.air)
    services.caveat_add(actor=world.ministry_gb, kind="condition", text="Only with a US backstop", pledge=air_gb,
                        condition=backstop)
    fr_troops = Pledge.objects.get(country=world.fr, coalition=world.coalition, description="Armoured battlegroup")
    services.caveat_add(actor=world.ministry_fr, kind="condition", text="Only with a US backstop",
                        pledge=fr_troops, condition=backstop)
    return TimeScene(base=base, month=month, first_rotation=first, second_rotation=second, ending=ending,
                     backstop=backstop, ceasefire=ceasefire)


@pytest.fixture
def time_scene(world: World) -> TimeScene:
    return build_time_scene(world)
