"""The force on a day, the timeline and every scenario count only what the reader may see: a property.

Hypothesis writes random pledges (countries, statuses, releasability, windows), rotations between them, named
conditions with random statuses and caveats naming them (on a pledge or country-wide, released or not). An oracle
in plain Python applies the rules of DESIGN.md (who sees which pledge and which caveat; fallen, conditional,
available on a day; the lowest day of each month) and every reader's answers must equal it: the force `on` a day,
the force under a random scenario, the timeline's months, its handovers and its pledges ending unrelieved. A
scenario writes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import User
from pledges import services
from pledges.models import Caveat, Condition, Pledge
from pledges.scenarios import Assumptions
from pledges.selectors import coalition_force
from pledges.timeline import coalition_timeline, month_after, month_end
from tests.conftest import World
from utilities.versioning import SystemActor, history_context

pytestmark = [pytest.mark.django_db, pytest.mark.property]
READERS = ("ministry_pl", "ministry_fr", "ministry_us", "analyst", "secretariat")
COUNTRIES = ("pl", "fr", "gb")
FIRST = dt.date(2026, 1, 1)
MONTHS = 4


@dataclass
class P:
    id: int
    country: str
    status: str
    releasability: str
    quantity: int
    start: dt.date | None
    end: dt.date | None
    relieves: int | None


@dataclass
class C:  # a condition caveat
    country: str
    pledge: int | None
    releasability: str
    condition: int | None


day_offsets = st.one_of(st.none(), st.integers(min_value=-20, max_value=150))
pledge_specs = st.lists(st.tuples(
    st.sampled_from(COUNTRIES), st.sampled_from(["draft", "indicative", "confirmed", "deployed", "withdrawn"]),
    st.sampled_from(["secretariat", "coalition"]), st.integers(min_value=1, max_value=50), day_offsets,
    st.integers(min_value=0, max_value=90), st.booleans(),
), min_size=1, max_size=7)
caveat_specs = st.lists(st.tuples(
    st.integers(min_value=0, max_value=6), st.booleans(), st.sampled_from(["secretariat", "coalition"]),
    st.integers(min_value=-1, max_value=1),
), max_size=5)


def sees_pledge(reader: User, p: P, world: World) -> bool:
    if reader.role == "ministry":
        if reader.country_id == getattr(world, p.country).pk:
            return True
        member = reader.country_id in {world.pl.pk, world.fr.pk, world.gb.pk}
        return p.status != "draft" and p.releasability == "coalition" and member
    return p.status != "draft"


def sees_caveat(reader: User, c: C, world: World) -> bool:  # its pledge, if any, being one the reader sees
    if reader.role == "ministry":
        member = reader.country_id in {world.pl.pk, world.fr.pk, world.gb.pk}
        return reader.country_id == getattr(world, c.country).pk or (c.releasability == "coalition" and member)
    return True


def flags(p: P, caveats: list[C], statuses: dict[int, str], reader: User, world: World) -> tuple[bool, bool]:
    """(fallen, conditional) for the reader."""
    mine = [c for c in caveats if sees_caveat(reader, c, world)
            and (c.pledge == p.id or (c.pledge is None and c.country == p.country))]
    fallen = any(c.condition is not None and statuses[c.condition] == "failed" for c in mine)
    conditional = any(c.condition is None or statuses[c.condition] == "open" for c in mine)
    return fallen, conditional


def available(p: P, day: dt.date) -> bool:
    return (p.start is None or p.start <= day) and (p.end is None or p.end >= day)


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(pledges=pledge_specs, caveats=caveat_specs, statuses=st.lists(st.sampled_from(["open", "met", "failed"]),
       min_size=2, max_size=2), assumed=st.lists(st.sampled_from(["open", "met", "failed"]), min_size=2,
       max_size=2), on=st.integers(min_value=0, max_value=110))
def test_time_and_scenarios_count_only_what_the_reader_may_see(world: World, pledges, caveats, statuses, assumed,
                                                               on) -> None:
    with history_context(SystemActor("test"), "reset"):  # a fresh coalition for each example
        Pledge.objects.update(relieves=None)
        Caveat.objects.all().delete()
        Pledge.objects.all().delete()
        Condition.objects.all().delete()
    conditions = [services.condition_create(actor=world.secretariat, coalition=world.coalition, name=f"c{i}",
                                            status=status) for i, status in enumerate(statuses)]
    made: list[P] = []
    for country, status, releasability, quantity, start, length, rotate in pledges:
        actor = getattr(world, f"ministry_{country}")
        begin = None if start is None else FIRST + dt.timedelta(days=start)
        end = None if begin is None or length > 80 else begin + dt.timedelta(days=length)
        relievable = [q for q in made if q.status in ("indicative", "confirmed", "deployed", "withdrawn")
                      and sees_pledge(actor, q, world)]
        relieves = relievable[-1].id if rotate and relievable else None
        pledge = services.pledge_create(
            actor=actor, coalition=world.coalition, category=world.troops, unit=world.personnel, quantity=quantity,
            releasability=releasability, available_from=begin, available_until=end,
            relieves=Pledge.objects.get(pk=relieves) if relieves else None,
            status="draft" if status == "draft" else "indicative")
        for step in {"confirmed": ["confirmed"], "deployed": ["confirmed", "deployed"],
                     "withdrawn": ["withdrawn"]}.get(status, []):
            pledge = services.pledge_transition(actor=actor, pledge=pledge, to_status=step)
        made.append(P(pledge.pk, country, status, releasability, quantity, begin, end, relieves))
    made_caveats: list[C] = []
    for index, on_pledge, releasability, which in caveats:
        target = made[index % len(made)]
        if target.status == "withdrawn" and on_pledge:
            continue
        condition = None if which < 0 else conditions[which]
        services.caveat_add(actor=getattr(world, f"ministry_{target.country}"), kind="condition", text="c",
                            pledge=Pledge.objects.get(pk=target.id) if on_pledge else None,
                            coalition=world.coalition, releasability=releasability, condition=condition)
        made_caveats.append(C(target.country, target.id if on_pledge else None,
                              # a pledge's caveat is released as its pledge is unless told otherwise
                              releasability, condition.pk if condition else None))
    recorded = {c.pk: c.status for c in conditions}
    scenario = {c.pk: status for c, status in zip(conditions, assumed, strict=True)}
    day = FIRST + dt.timedelta(days=on)
    last = month_end(month_after(FIRST, MONTHS - 1))
    for name in READERS:
        reader = User.objects.get(pk=getattr(world, name).pk)
        for statuses_now, assume in ((recorded, Assumptions()), (scenario, Assumptions(scenario))):
            counted = [p for p in made if p.status in ("indicative", "confirmed", "deployed")
                       and sees_pledge(reader, p, world)
                       and not flags(p, made_caveats, statuses_now, reader, world)[0]]
            picture = coalition_force(coalition=world.coalition, user=reader, on=day, assume=assume, fresh=True)
            got = picture.categories[0].confirmed if picture.categories else 0
            want = sum(p.quantity for p in counted if available(p, day) and p.status in ("confirmed", "deployed"))
            assert got == want, (name, assume, "force on", day)
            want_conditional = sum(p.quantity for p in counted if available(p, day)
                                   and flags(p, made_caveats, statuses_now, reader, world)[1])
            assert (picture.categories[0].conditional if picture.categories else 0) == want_conditional, name
            timeline = coalition_timeline(coalition=world.coalition, user=reader, start=FIRST, months=MONTHS,
                                          assume=assume)
            months = timeline.capabilities[0].months if timeline.capabilities else []
            for index, figures in enumerate(months):
                start = month_after(FIRST, index)
                days = [start + dt.timedelta(days=n) for n in range((month_end(start) - start).days + 1)]
                assert figures.offered == min(sum(p.quantity for p in counted if available(p, d)) for d in days)
                assert figures.committed == min(sum(p.quantity for p in counted if available(p, d)
                                                    and p.status in ("confirmed", "deployed")) for d in days)
            seen = {p.id for p in made if sees_pledge(reader, p, world)}
            for handover in timeline.handovers:
                assert handover.relieved in seen and handover.relieving in seen, name
            relieved_by_counted = {p.relieves for p in counted}
            want_ending = sorted(p.id for p in counted if p.end is not None and FIRST <= p.end <= last
                                 and p.id not in relieved_by_counted)
            assert sorted(e.pledge for e in timeline.ending_unrelieved) == want_ending, name
    assert {c.pk: c.status for c in Condition.objects.all()} == recorded  # no scenario wrote
