"""The force on a day, month by month, rotations and named conditions, read through the selectors.

The monthly figures are checked against an oracle: the minimum over the month's days of the daily sums, each
day's sum computed from the pledges one by one.
"""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from pledges import services
from pledges.models import Caveat, ConditionStatus, Pledge
from pledges.scenarios import Assumptions, parse_assumptions
from pledges.selectors import coalition_force, coalition_map
from pledges.timeline import coalition_timeline, month_after, month_end
from tests.conftest import World
from tests.factories import make_pledge

pytestmark = pytest.mark.django_db
D = dt.date


def troops(world: World, quantity: int, status: str = "confirmed", country=None, **fields) -> Pledge:
    return make_pledge(country=country or world.pl, coalition=world.coalition, category=world.troops,
                       unit=world.personnel, quantity=quantity, status=status, **fields)


def test_force_on_a_day_counts_only_the_pledges_available_that_day(world: World) -> None:
    troops(world, 100, available_from=D(2026, 1, 1), available_until=D(2026, 6, 30))
    troops(world, 10, available_from=D(2026, 7, 1))
    troops(world, 1)  # open both ends
    on = {day: coalition_force(coalition=world.coalition, user=world.analyst, on=day).categories[0].confirmed
          for day in (D(2025, 12, 31), D(2026, 1, 1), D(2026, 6, 30), D(2026, 7, 1))}
    assert on == {D(2025, 12, 31): 1, D(2026, 1, 1): 101, D(2026, 6, 30): 101, D(2026, 7, 1): 11}
    assert coalition_force(coalition=world.coalition, user=world.analyst).categories[0].confirmed == 111


def oracle(pledges: list[Pledge], first: dt.date, months: int) -> list[dict[str, int]]:
    """Per month, the lowest daily sums, day by day from the pledges themselves."""
    out = []
    for i in range(months):
        start = month_after(first, i)
        days = [start + dt.timedelta(days=n) for n in range((month_end(start) - start).days + 1)]

        def on(day: dt.date, committed: bool) -> int:
            return sum(p.quantity for p in pledges
                       if (p.available_from is None or p.available_from <= day)
                       and (p.available_until is None or p.available_until >= day)
                       and (not committed or p.status in ("confirmed", "deployed")))

        out.append({"offered": min(on(d, False) for d in days), "committed": min(on(d, True) for d in days)})
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_each_month_is_the_lowest_of_its_daily_sums(world: World, seed: int) -> None:
    rng = random.Random(seed)
    first = D(2026, 1, 1)
    pledges = []
    for _ in range(12):
        start = first + dt.timedelta(days=rng.randint(-40, 400))
        end = start + dt.timedelta(days=rng.randint(0, 200))
        pledges.append(troops(world, rng.randint(1, 500), rng.choice(["indicative", "confirmed", "deployed"]),
                              available_from=rng.choice([start, None]), available_until=rng.choice([end, end, None])))
    got = coalition_timeline(coalition=world.coalition, user=world.analyst, start=first, months=14)
    months = got.capabilities[0].months
    assert [{"offered": m.offered, "committed": m.committed} for m in months] == oracle(pledges, first, 14)


def test_a_one_day_hole_between_rotations_shows_and_the_handover_says_so(world: World) -> None:
    first = troops(world, 300, available_from=D(2026, 1, 1), available_until=D(2026, 2, 28),
                   releasability="coalition")  # FR must see it to name it
    second = troops(world, 300, country=world.fr, available_from=D(2026, 3, 2), available_until=D(2026, 8, 31),
                    relieves=first)
    timeline = coalition_timeline(coalition=world.coalition, user=world.analyst, start=D(2026, 1, 1), months=9)
    committed = [m.committed for m in timeline.capabilities[0].months]
    assert committed == [300, 300, 0, 300, 300, 300, 300, 300, 0]  # 1 March uncovered; nothing after August
    [handover] = timeline.handovers
    assert (handover.relieved, handover.relieving, handover.uncovered_days) == (first.pk, second.pk, 1)
    assert [e.pledge for e in timeline.ending_unrelieved] == [second.pk]  # the first is relieved


def test_overlap_is_negative_uncovered_days(world: World) -> None:
    first = troops(world, 5, available_until=D(2026, 3, 10))
    troops(world, 5, available_from=D(2026, 3, 1), relieves=first)
    timeline = coalition_timeline(coalition=world.coalition, user=world.analyst, start=D(2026, 3, 1), months=1)
    assert timeline.handovers[0].uncovered_days == -10


def test_a_rotation_is_refused_across_capabilities_invisible_or_round(world: World) -> None:
    base = troops(world, 5)
    air = make_pledge(country=world.pl, coalition=world.coalition, category=world.air, unit=world.personnel,
                      quantity=1, status="confirmed")
    with pytest.raises(ValidationError) as refused:
        troops(world, 5, relieves=air)
    assert "relieves" in refused.value.message_dict
    draft_fr = make_pledge(country=world.fr, coalition=world.coalition, category=world.troops,
                           unit=world.personnel, quantity=1)
    with pytest.raises(ValidationError) as refused:  # another country's draft: not one PL may see
        troops(world, 5, relieves=draft_fr)
    assert "relieves" in refused.value.message_dict
    second = troops(world, 5, relieves=base)
    with pytest.raises(ValidationError) as refused:
        services.pledge_update(actor=world.ministry_pl, pledge=base, relieves=second)
    assert "relieves" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:  # the rotation's capability cannot change under it
        services.pledge_update(actor=world.ministry_pl, pledge=base, category=world.air, unit=world.aircraft)
    assert refused.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():  # the database holds it whatever writes
        Pledge.objects.filter(pk=second.pk).update(category=world.air)


def condition(world: World, name: str, coalition=None):
    return services.condition_create(actor=world.secretariat, coalition=coalition or world.coalition, name=name)


def test_a_failed_condition_takes_its_pledges_out_and_a_met_one_makes_them_firm(world: World) -> None:
    backstop = condition(world, "United States backstop")
    hanging = troops(world, 100)
    troops(world, 7)
    services.caveat_add(actor=world.ministry_pl, kind="condition", text="Only with a US backstop",
                        pledge=hanging, condition=backstop)

    def line(**kw):
        return coalition_force(coalition=world.coalition, user=world.analyst, fresh=True, **kw)

    picture = line()
    assert (picture.categories[0].confirmed, picture.categories[0].conditional) == (107, 100)
    assert picture.conditions[0].capabilities[0].committed == 100
    failed = line(assume=Assumptions({backstop.pk: "failed"}))
    assert (failed.categories[0].confirmed, failed.categories[0].conditional) == (7, 0)
    assert failed.conditions[0].status == "failed" and failed.conditions[0].capabilities[0].offered == 100
    met = line(assume=Assumptions({backstop.pk: "met"}))
    assert (met.categories[0].confirmed, met.categories[0].conditional) == (107, 0)
    assert backstop.__class__.objects.get(pk=backstop.pk).status == "open"  # assuming wrote nothing
    services.condition_update(actor=world.secretariat, condition=backstop, status=ConditionStatus.FAILED)
    assert line().categories[0].confirmed == 7
    assert coalition_map(coalition=world.coalition, user=world.analyst).unplaced == 1


def test_an_unnamed_condition_caveat_beside_a_met_one_stays_conditional(world: World) -> None:
    met = condition(world, "Ceasefire in force")
    services.condition_update(actor=world.secretariat, condition=met, status="met")
    pledge = troops(world, 10)
    services.caveat_add(actor=world.ministry_pl, kind="condition", text="Ceasefire", pledge=pledge, condition=met)
    assert coalition_force(coalition=world.coalition, user=world.analyst).categories[0].conditional == 0
    services.caveat_add(actor=world.ministry_pl, kind="condition", text="Parliament", pledge=pledge)
    assert coalition_force(coalition=world.coalition, user=world.analyst).categories[0].conditional == 10


def test_a_caveat_names_only_a_condition_of_its_coalition_and_only_as_a_condition(world: World) -> None:
    foreign = condition(world, "Elsewhere", coalition=world.other_coalition)
    pledge = troops(world, 10)
    for kind, named in (("condition", foreign), ("geographic", condition(world, "Here"))):
        with pytest.raises(ValidationError) as refused:
            services.caveat_add(actor=world.ministry_pl, kind=kind, text="x", pledge=pledge, condition=named)
        assert "condition" in refused.value.message_dict
    assert not Caveat.objects.exists()


def test_assumptions_refuse_other_words_and_foreign_ids(world: World) -> None:
    own = condition(world, "Own")
    foreign = condition(world, "Foreign", coalition=world.other_coalition)
    assert parse_assumptions(f"{own.pk}:met", coalition=world.coalition).statuses == {own.pk: "met"}
    for raw in (f"{foreign.pk}:met", f"{own.pk}:maybe", "x", f"{own.pk}", "999999:failed"):
        with pytest.raises(ValueError):
            parse_assumptions(raw, coalition=world.coalition)


def test_deciding_a_condition_needs_the_secretariat_and_keeps_history(world: World) -> None:
    backstop = condition(world, "Backstop")
    with pytest.raises(Exception):  # noqa: B017  PermissionDenied
        services.condition_update(actor=world.ministry_pl, condition=backstop, status="met")
    decided = services.condition_update(actor=world.secretariat, condition=backstop, status="met")
    assert decided.decided_on is not None and decided.version == 2
    assert [e.status for e in backstop.events.order_by("pgh_id")] == ["open", "met"]
    reopened = services.condition_update(actor=world.secretariat, condition=decided, status="open")
    assert reopened.decided_on is None
