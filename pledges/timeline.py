"""The force month by month: what stands on each day, the lowest day of each month, and the rotations.

A monthly figure is the LOWEST daily total in that month, so a hole of one day between two rotations shows. The
daily totals come from one aggregate query: the counted pledges (visible to the reader, offered, not fallen with a
failed condition) grouped by capability, status class, conditional or not, and their days clipped to the window;
a sweep over the window's days (a difference array, at most 60 months of days) then gives every day's sum. So
the cost grows with the kinds of windows, not with the pledges.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from dataclasses import asdict, dataclass
from itertools import accumulate
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.roles import Reader
from pledges.models import COMMITTED, OFFERED, Coalition, Country, PledgeStatus
from pledges.scenarios import NO_ASSUMPTIONS, Assumptions, condition_states
from pledges.selectors import (
    categories_and_units,
    read_sources,
    requirements_of,
    with_condition_flags,
)

MAX_MONTHS = 60


def month_after(month: dt.date, count: int = 1) -> dt.date:
    index = month.year * 12 + month.month - 1 + count
    return dt.date(index // 12, index % 12 + 1, 1)


def month_end(month: dt.date) -> dt.date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


@dataclass(slots=True)
class MonthFigures:
    month: str  # YYYY-MM
    offered: int
    committed: int
    conditional: int
    gap: int | None  # requirement - committed (the lowest day's); null without a requirement


@dataclass(slots=True)
class CapabilityTimeline:
    category: str
    category_name: str
    unit: str
    requirement: int | None
    months: list[MonthFigures]


@dataclass(slots=True)
class Handover:
    relieved: int
    relieving: int
    ends_on: dt.date | None
    starts_on: dt.date | None
    uncovered_days: int | None  # days between the two with neither; negative: they overlap so many days
    category: str
    unit: str
    relieved_country: str
    relieving_country: str


@dataclass(slots=True)
class EndingUnrelieved:
    pledge: int
    country: str
    category: str
    unit: str
    quantity: int
    ends_on: dt.date


@dataclass
class Timeline:
    coalition: int
    as_of: dt.datetime
    start: str  # YYYY-MM
    months: int
    assumed: dict[int, str]
    capabilities: list[CapabilityTimeline]
    handovers: list[Handover]
    ending_unrelieved: list[EndingUnrelieved]

    def as_dict(self) -> dict[str, Any]:
        """As asdict() gives it, built directly: asdict copies field by field, slow over 50,000 endings."""
        return {
            "coalition": self.coalition, "as_of": self.as_of, "start": self.start, "months": self.months,
            "assumed": dict(self.assumed),
            "capabilities": [{"category": c.category, "category_name": c.category_name, "unit": c.unit,
                              "requirement": c.requirement, "months": [asdict(m) for m in c.months]}
                             for c in self.capabilities],
            "handovers": [asdict(h) for h in self.handovers],
            "ending_unrelieved": [{"pledge": e.pledge, "country": e.country, "category": e.category, "unit": e.unit,
                                   "quantity": e.quantity, "ends_on": e.ends_on} for e in self.ending_unrelieved],
        }


def coalition_timeline(*, coalition: Coalition, user: Reader, start: dt.date | None = None, months: int = 12,
                       as_of: dt.datetime | None = None, assume: Assumptions = NO_ASSUMPTIONS) -> Timeline:
    """Per capability, for each month from `start` (its first day), the lowest daily offered, committed and
    conditional totals of the pledges `user` may see (as recorded by `as_of`; with a scenario's assumptions), the
    handovers between rotations and the pledges that end in the window with nobody relieving them."""
    if not 1 <= months <= MAX_MONTHS:
        raise ValueError(_("Give from 1 to %(most)s months.") % {"most": MAX_MONTHS})
    moment = as_of or timezone.now()
    first = (start or timezone.localdate(moment)).replace(day=1)
    last = month_end(month_after(first, months - 1))
    rows, caveats, _deliveries = read_sources(user, as_of)
    states = condition_states(coalition_id=coalition.pk, as_of=as_of, assume=assume)
    visible = rows.filter(coalition_id=coalition.pk)
    counted = with_condition_flags(visible.filter(status__in=OFFERED), caveats, user, moment, states) \
        .filter(is_fallen=False)
    in_window = counted.filter(Q(available_from__isnull=True) | Q(available_from__lte=last),
                               Q(available_until__isnull=True) | Q(available_until__gte=first))
    daily, ending = _daily_totals(in_window, first, last)
    requirements = requirements_of(coalition, as_of)
    categories, units = categories_and_units()
    keys = sorted(set(daily) | set(requirements),
                  key=lambda k: (categories[k[0]].sort_order, categories[k[0]].code, units[k[1]]))
    spans = [(month_after(first, i), month_end(month_after(first, i))) for i in range(months)]
    capabilities = []
    for key in keys:
        offered, committed, conditional = daily.get(key, ([0] * ((last - first).days + 1),) * 3)
        requirement = requirements.get(key)
        figures = []
        for month_start, month_stop in spans:
            a, b = (month_start - first).days, (month_stop - first).days + 1
            lowest_committed = min(committed[a:b])
            figures.append(MonthFigures(
                month=month_start.strftime("%Y-%m"), offered=min(offered[a:b]), committed=lowest_committed,
                conditional=min(conditional[a:b]),
                gap=None if requirement is None else requirement - lowest_committed,
            ))
        capabilities.append(CapabilityTimeline(category=categories[key[0]].code,
                                               category_name=categories[key[0]].name, unit=units[key[1]],
                                               requirement=requirement, months=figures))
    return Timeline(
        coalition=coalition.pk, as_of=moment, start=first.strftime("%Y-%m"), months=months,
        assumed=dict(assume.statuses), capabilities=capabilities,
        handovers=_handovers(visible, counted, first, last, categories, units),
        ending_unrelieved=_ending_unrelieved(counted, ending, categories, units),
    )


Ending = tuple[int, int, int, int, int, dt.date]  # id, country, category, unit, quantity, last day


def _daily_totals(pledges: QuerySet[Any], first: dt.date, last: dt.date
                  ) -> tuple[dict[tuple[int, int], tuple[list[int], list[int], list[int]]], list[Ending]]:
    """Per (category, unit): the offered, committed and conditional sums of every day from `first` to `last`;
    and the pledges whose last day falls in the window.

    PostgreSQL sums the changes by day (a pledge adds its quantity on its first day in the window and takes it
    away the day after its last), so what comes back is one row per capability and day on which something
    changes, whatever the number of pledges; the running sums are then a walk over the window's days. The
    pledges ending come from the same reading of the pledges (their flags are worked out once)."""
    rows = pledges.order_by().values("id", "country_id", "category_id", "unit_id", "available_from",
                                     "available_until", "quantity", "status", "is_conditional")
    inner, params = rows.query.sql_with_params()
    # The inner query is Django's own SQL for the queryset; every value is a parameter.
    sql = (
        f"WITH p AS MATERIALIZED ({inner}), "  # noqa: S608
        "b AS (SELECT category_id, unit_id, quantity, status = ANY(%s) AS committed, is_conditional, "
        "GREATEST(COALESCE(available_from, %s), %s) AS lo, LEAST(COALESCE(available_until, %s), %s) AS hi FROM p), "
        "d AS (SELECT category_id, unit_id, lo AS day, quantity AS delta, committed, is_conditional FROM b "
        "UNION ALL SELECT category_id, unit_id, hi + 1, -quantity, committed, is_conditional FROM b WHERE hi < %s) "
        "SELECT 0, category_id, unit_id, day, SUM(delta)::bigint, "
        "COALESCE(SUM(delta) FILTER (WHERE committed), 0)::bigint, "
        "COALESCE(SUM(delta) FILTER (WHERE is_conditional), 0)::bigint, NULL::bigint, NULL::bigint "
        "FROM d GROUP BY 2, 3, 4 "
        "UNION ALL SELECT 1, category_id, unit_id, available_until, quantity::bigint, 0::bigint, 0::bigint, "
        "id::bigint, country_id::bigint FROM p WHERE available_until BETWEEN %s AND %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, [str(s) for s in COMMITTED], first, first, last, last, last, first, last])
        found = cursor.fetchall()
    days = (last - first).days + 1
    steps: dict[tuple[int, int], list[list[int]]] = defaultdict(lambda: [[0] * (days + 1) for _ in range(3)])
    ending: list[Ending] = []
    for kind, category, unit, day, offered, committed, conditional, pk, country in found:
        if kind == 1:
            ending.append((pk, country, category, unit, offered, day))
            continue
        series = steps[(category, unit)]
        index = (day - first).days
        series[0][index] += offered
        series[1][index] += committed
        series[2][index] += conditional
    ending.sort(key=lambda row: (row[5], row[0]))
    daily = {key: tuple(list(accumulate(series))[:days] for series in three)  # type: ignore[misc]
             for key, three in steps.items()}
    return daily, ending  # type: ignore[return-value]


def _handovers(visible: QuerySet[Any], counted: QuerySet[Any], first: dt.date, last: dt.date,
               categories: dict[int, Any], units: dict[int, str]) -> list[Handover]:
    """Each counted pledge that relieves one the reader sees (offered or withdrawn), where the end of the one or
    the start of the other falls in the window."""
    relieving = list(counted.filter(relieves_id__isnull=False).order_by()
                     .values("id", "relieves_id", "available_from", "country_id", "category_id", "unit_id"))
    if not relieving:
        return []
    relieved = {row["id"]: row for row in visible.filter(
        id__in=[row["relieves_id"] for row in relieving],
        status__in=[*OFFERED, PledgeStatus.WITHDRAWN]).order_by().values("id", "available_until", "country_id")}
    codes = dict(Country.objects.filter(
        pk__in={row["country_id"] for row in (*relieving, *relieved.values())}).values_list("pk", "code"))
    handovers = []
    for row in relieving:
        old = relieved.get(row["relieves_id"])
        if old is None:
            continue
        ends_on, starts_on = old["available_until"], row["available_from"]
        if not any(day is not None and first <= day <= last for day in (ends_on, starts_on)):
            continue
        handovers.append(Handover(
            relieved=old["id"], relieving=row["id"], ends_on=ends_on, starts_on=starts_on,
            uncovered_days=(starts_on - ends_on).days - 1 if ends_on and starts_on else None,
            category=categories[row["category_id"]].code, unit=units[row["unit_id"]],
            relieved_country=codes[old["country_id"]], relieving_country=codes[row["country_id"]],
        ))
    handovers.sort(key=lambda h: (h.ends_on or h.starts_on or last, h.category, h.relieved))
    return handovers


def _ending_unrelieved(counted: QuerySet[Any], ending: list[Ending], categories: dict[int, Any],
                       units: dict[int, str]) -> list[EndingUnrelieved]:
    """The counted pledges whose last day falls in the window (`ending`) that no counted pledge relieves."""
    relieved = {pk for pk in counted.filter(relieves_id__isnull=False).order_by()
                .values_list("relieves_id", flat=True)}
    rows = [row for row in ending if row[0] not in relieved]
    codes = dict(Country.objects.filter(pk__in={row[1] for row in rows}).values_list("pk", "code"))
    names = {pk: category.code for pk, category in categories.items()}
    return [EndingUnrelieved(pk, codes[country], names[category], units[unit], quantity, ends_on)
            for pk, country, category, unit, quantity, ends_on in rows]
