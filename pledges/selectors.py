"""Reads that carry rules: the pledges a user may see (now or as of a moment) and the totals and gaps.

Every function here starts from pledges.visibility, so what one user reads
through the admin, the API, an export or a brief is the same set of rows;
reads of the past (as-of states, versions, changes) are in pledges.history.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from django.contrib.postgres.aggregates import ArrayAgg
from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    Count,
    ExpressionWrapper,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.roles import MinistryStaff, Reader, SignedIn
from places.models import Place
from pledges.answer_cache import cached_picture
from pledges.history import (
    CaveatEvent,
    DeliveryEvent,
    PledgeEvent,
    RequirementEvent,
    pledges_as_of,
    state_as_of,
    unchanged_since,
)
from pledges.models import (
    COMMITTED,
    OFFERED,
    CapabilityCategory,
    Caveat,
    CaveatKind,
    Coalition,
    ConditionStatus,
    Country,
    Delivery,
    Pledge,
    PledgeStatus,
    Requirement,
    Unit,
)
from pledges.scenarios import (
    NO_ASSUMPTIONS,
    Assumptions,
    ConditionState,
    available_on,
    condition_flags,
    condition_states,
)
from pledges.staleness import stale_expression
from pledges.visibility import caveat_own_visibility_q, caveats_visible_to, pledge_visibility_q


def read_sources(user: Reader, as_of: dt.datetime | None) -> tuple[QuerySet[Any], QuerySet[Any], QuerySet[Any]]:
    """The pledges `user` may see, the caveats and the tranches: live, or as they stood at `as_of`."""
    if as_of is None or unchanged_since(as_of, PledgeEvent, CaveatEvent, DeliveryEvent):
        return Pledge.objects.filter(pledge_visibility_q(user)), Caveat.objects.all(), Delivery.objects.all()
    return pledges_as_of(user, as_of), state_as_of(CaveatEvent, as_of), state_as_of(DeliveryEvent, as_of)


def pledge_list(*, user: Reader, as_of: dt.datetime | None = None) -> QuerySet[Any]:
    """Pledges `user` may see, now or as they stood (and as they could see them) at `as_of`, each with
    `is_conditional`, `delivered_quantity`, `overdue_quantity`, `has_overdue_delivery` and `is_stale`.

    At `as_of` the rows are history snapshots (PledgeEvent) carrying the pledge's
    fields; `id` is the pledge's id in both cases. What was recorded after `as_of` (a tranche entered today,
    even with an earlier delivery date) is not known as of then.
    """
    moment = as_of or timezone.now()
    rows, caveats, deliveries = read_sources(user, as_of)
    day = timezone.localdate(moment)
    of_this_pledge = deliveries.filter(pledge_id=OuterRef("id")).order_by().values("pledge_id")
    delivered = of_this_pledge.filter(delivered_on__isnull=False).annotate(total=Sum("quantity")).values("total")
    overdue = of_this_pledge.filter(delivered_on__isnull=True, planned_on__lt=day)
    # The tranche figures are subqueries per row: on a page they run for its 100 rows only. has_overdue_delivery
    # is read off overdue_quantity rather than an EXISTS, which PostgreSQL would answer by hashing every overdue
    # tranche of the database first (11 ms of a 14 ms page at 100,000 pledges).
    return with_condition_flags(rows, caveats, user, moment, None, as_of=as_of).annotate(
        delivered_quantity=Coalesce(Subquery(delivered), 0),
        overdue_quantity=Coalesce(Subquery(overdue.annotate(total=Sum("quantity")).values("total")), 0),
    ).annotate(
        has_overdue_delivery=ExpressionWrapper(Q(overdue_quantity__gt=0), output_field=BooleanField()),
        # The pledge it relieves, only where the reader sees that one too (at the same moment): a scalar subquery
        # looked up by id for the rows that relieve one. As an EXISTS, PostgreSQL hashed every visible pledge
        # first (28 of a page's 69 ms at 100,000 pledges).
        relieves_seen=Case(When(relieves_id__isnull=True, then=None),
                           default=Subquery(rows.filter(id=OuterRef("relieves_id")).values("id")[:1]),
                           output_field=IntegerField()),
    ).select_related("country", "coalition", "category", "unit", "place")


def with_condition_flags(rows: QuerySet[Any], caveats: QuerySet[Any], user: Reader, moment: dt.datetime,
                         states: Mapping[int, ConditionState] | None, *,
                         as_of: dt.datetime | None = None) -> QuerySet[Any]:
    # Only caveats the user may see make a pledge conditional (or fallen) for them: a flag must not reveal a
    # caveat. The pledge being flagged is one they see (at the same moment), so the caveat's own fields decide.
    return rows.annotate(
        **condition_flags(caveats.filter(caveat_own_visibility_q(user)), states, as_of=as_of),
        is_stale=stale_expression(moment),
    )


# --- totals and gaps -------------------------------------------------------------------------

@dataclass
class ForceLine:
    category: str
    category_name: str
    unit: str
    requirement: int | None
    confirmed: int  # confirmed + deployed
    deployed: int
    indicative: int
    conditional: int  # of the offered amount (confirmed, deployed or indicative), how much is conditional
    conditional_confirmed: int  # of `confirmed`, how much is conditional
    gap: int | None  # requirement - confirmed; negative is a surplus
    gap_without_conditional: int | None  # the gap if every conditional pledge fell away
    pledge_count: int
    delivered: int = 0  # of the offered amount, how much has arrived (delivered tranches)
    overdue: int = 0  # tranches whose planned day has passed and that have not arrived
    stale: int = 0  # of the offered amount, how much has not been reconfirmed in time


@dataclass
class CountryLine:
    category_id: int
    unit_id: int
    country: str
    country_name: str
    category: str
    unit: str
    confirmed: int
    indicative: int
    conditional: int
    pledge_count: int
    delivered: int = 0
    overdue: int = 0
    stale: int = 0


@dataclass
class ConditionAmount:
    category: str
    category_name: str
    unit: str
    offered: int  # of the pledges available (on the day), under a caveat naming the condition
    committed: int  # of those, confirmed or deployed
    pledge_count: int


@dataclass
class ConditionLine:
    id: int
    name: str
    status: str  # as counted: recorded, or assumed by the scenario
    recorded_status: str
    decided_on: dt.date | None
    assumed: bool
    # Per capability, what hangs on it: counted while it is open or met, fallen with it when it failed.
    capabilities: list[ConditionAmount]


@dataclass
class ForcePicture:
    coalition_id: int
    as_of: dt.datetime
    categories: list[ForceLine]
    countries: list[CountryLine]
    on: dt.date | None = None
    assumed: dict[int, str] = field(default_factory=dict)
    conditions: list[ConditionLine] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def requirements_of(coalition: Coalition, as_of: dt.datetime | None) -> dict[tuple[int, int], int]:
    rows = Requirement.objects.all() if as_of is None else state_as_of(RequirementEvent, as_of)
    return {
        (r["category_id"], r["unit_id"]): r["quantity"]
        for r in rows.filter(coalition_id=coalition.pk).values("category_id", "unit_id", "quantity")
    }


def categories_and_units() -> tuple[dict[int, CapabilityCategory], dict[int, str]]:
    """Categories by id and unit codes by id, for naming aggregated lines: two small queries."""
    return {c.pk: c for c in CapabilityCategory.objects.all()}, {u.pk: u.code for u in Unit.objects.all()}


def _tranche_sums(pledges: QuerySet[Any], deliveries: QuerySet[Any], day: dt.date
                  ) -> dict[tuple[int, int, int], tuple[int, int]]:
    """Delivered and overdue amounts per (country, category, unit) of `pledges`, from `deliveries` (live rows or
    history as of a moment): one join of the two, where a subquery per pledge would run 70,000 times."""
    pledge_sql, pledge_params = pledges.order_by().values("id", "country_id", "category_id", "unit_id").query \
        .sql_with_params()
    tranche_sql, tranche_params = deliveries.order_by().values("pledge_id", "quantity", "delivered_on", "planned_on") \
        .query.sql_with_params()
    # Both subqueries are Django's own SQL for querysets; every value is a parameter.
    sql = (
        "SELECT p.country_id, p.category_id, p.unit_id, "  # noqa: S608
        "COALESCE(SUM(d.quantity) FILTER (WHERE d.delivered_on IS NOT NULL), 0), "
        "COALESCE(SUM(d.quantity) FILTER (WHERE d.delivered_on IS NULL AND d.planned_on < %s), 0) "
        f"FROM ({pledge_sql}) AS p (id, country_id, category_id, unit_id) "
        f"JOIN ({tranche_sql}) AS d (pledge_id, quantity, delivered_on, planned_on) ON d.pledge_id = p.id "
        "GROUP BY 1, 2, 3"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [day, *pledge_params, *tranche_params])
        return {(country, category, unit): (delivered, overdue)
                for country, category, unit, delivered, overdue in cursor.fetchall()}


def conditions_at_stake(pledges: QuerySet[Any], caveats: QuerySet[Any], states: Mapping[int, ConditionState]
                        ) -> dict[int, dict[tuple[int, int], dict[str, int]]]:
    """Per named condition, per (category, unit), the offered and committed amounts of `pledges` under an active
    caveat naming it (on the pledge or country-wide), from `caveats` the reader may see. Two queries: the caveats
    naming a condition (few), then one aggregate of the pledges per capability with a filtered sum per condition,
    so a country-wide caveat over thousands of pledges is summed by PostgreSQL, not fetched."""
    if not states:
        return {}
    naming = list(caveats.filter(kind=CaveatKind.CONDITION, is_active=True, condition_id__in=list(states))
                  .order_by().values_list("condition_id", "pledge_id", "country_id"))
    if not naming:
        return {}
    covers: dict[int, Q] = {}
    for condition in sorted({row[0] for row in naming}):
        on_pledges = sorted({pledge for named, pledge, _country in naming if named == condition and pledge})
        countries = sorted({country for named, pledge, country in naming if named == condition and not pledge})
        covers[condition] = Q(id__in=on_pledges) | Q(country_id__in=countries)
    sums: dict[str, Any] = {}
    for condition, covered in covers.items():
        sums[f"offered_{condition}"] = Coalesce(Sum("quantity", filter=covered), 0)
        sums[f"committed_{condition}"] = Coalesce(Sum("quantity", filter=covered & Q(status__in=COMMITTED)), 0)
        sums[f"count_{condition}"] = Count("id", filter=covered)
    amounts: dict[int, dict[tuple[int, int], dict[str, int]]] = defaultdict(dict)
    for row in pledges.order_by().values("category_id", "unit_id").annotate(**sums):
        for condition in covers:
            if row[f"count_{condition}"]:
                amounts[condition][(row["category_id"], row["unit_id"])] = {
                    "offered": row[f"offered_{condition}"], "committed": row[f"committed_{condition}"],
                    "count": row[f"count_{condition}"]}
    return dict(amounts)


def _condition_line(state: ConditionState, amounts: Mapping[tuple[int, int], Mapping[str, int]],
                    categories: Mapping[int, CapabilityCategory], units: Mapping[int, str]) -> ConditionLine:
    keys = sorted(amounts, key=lambda k: (categories[k[0]].sort_order, categories[k[0]].code, units[k[1]]))
    return ConditionLine(
        id=state.id, name=state.name, status=state.status, recorded_status=state.recorded_status,
        decided_on=state.decided_on, assumed=state.assumed,
        capabilities=[ConditionAmount(category=categories[c].code, category_name=categories[c].name, unit=units[u],
                                      offered=amounts[(c, u)]["offered"], committed=amounts[(c, u)]["committed"],
                                      pledge_count=amounts[(c, u)]["count"]) for c, u in keys],
    )


def coalition_force(*, coalition: Coalition, user: Reader, as_of: dt.datetime | None = None,
                    on: dt.date | None = None, assume: Assumptions = NO_ASSUMPTIONS,
                    fresh: bool = False) -> ForcePicture:
    """Requirement, confirmed, indicative, conditional and gap per category and unit, and per country, and what
    hangs on each named condition.

    `as_of`: as recorded by that moment; `on`: only the pledges available that day; `assume`: a scenario's
    condition statuses. A pledge fallen with a failed condition counts nowhere. A handful of aggregate queries and
    the names, however many pledges. The live picture of every day is kept per data version
    (pledges.answer_cache) unless `fresh`; any other is computed.
    """
    if as_of is None and on is None and not assume and not fresh:
        return cached_picture(coalition, user, lambda: _force_picture(coalition, user, None, None, NO_ASSUMPTIONS))
    return _force_picture(coalition, user, as_of, on, assume)


def _force_picture(coalition: Coalition, user: Reader, as_of: dt.datetime | None, on: dt.date | None,
                   assume: Assumptions) -> ForcePicture:
    moment = as_of or timezone.now()
    rows, caveats, deliveries = read_sources(user, as_of)
    states = condition_states(coalition_id=coalition.pk, as_of=as_of, assume=assume)
    available = available_on(rows.filter(coalition_id=coalition.pk, status__in=OFFERED), on)
    flagged = with_condition_flags(available, caveats, user, moment, states)
    pledges = flagged.filter(is_fallen=False)
    offered = pledges  # what counts: offered, available on the day, not fallen
    hanging = conditions_at_stake(flagged, caveats.filter(caveat_own_visibility_q(user)), states)
    tranches = _tranche_sums(offered, deliveries, timezone.localdate(moment))
    if as_of is not None and unchanged_since(as_of, RequirementEvent):
        as_of = None  # the live requirements are the requirements as they stood
    zero = 0
    sums = {
        "confirmed": Coalesce(Sum("quantity", filter=Q(status__in=COMMITTED)), zero),
        "deployed": Coalesce(Sum("quantity", filter=Q(status=PledgeStatus.DEPLOYED)), zero),
        "indicative": Coalesce(Sum("quantity", filter=Q(status=PledgeStatus.INDICATIVE)), zero),
        "conditional": Coalesce(Sum("quantity", filter=Q(is_conditional=True)), zero),
        "conditional_confirmed": Coalesce(Sum("quantity", filter=Q(is_conditional=True, status__in=COMMITTED)), zero),
        "stale": Coalesce(Sum("quantity", filter=Q(is_stale=True)), zero),
    }
    by_country = list(
        pledges.order_by()
        .values("country_id", "category_id", "unit_id")
        .annotate(**sums, pledge_count=Count("id"))
    )
    for r in by_country:
        r["delivered"], r["overdue"] = tranches.get((r["country_id"], r["category_id"], r["unit_id"]), (0, 0))
    # The category totals are the sums of the country lines: one pass over the pledges, not two.
    by_category: dict[tuple[int, int], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in by_country:
        totals = by_category[(r["category_id"], r["unit_id"])]
        for name in (*sums, "delivered", "overdue", "pledge_count"):
            totals[name] += r[name]
    requirements = requirements_of(coalition, as_of)
    categories, units = categories_and_units()
    countries = {c.pk: c for c in Country.objects.filter(pk__in={r["country_id"] for r in by_country})}

    def order(category_id: int, unit_id: int) -> tuple[int, str, str]:
        return (categories[category_id].sort_order, categories[category_id].code, units[unit_id])

    lines = []
    for key in sorted(set(by_category) | set(requirements), key=lambda k: order(*k)):
        row = by_category.get(key, {})
        requirement = requirements.get(key)
        confirmed = row.get("confirmed", 0)
        conditional_confirmed = row.get("conditional_confirmed", 0)
        lines.append(ForceLine(
            category=categories[key[0]].code,
            category_name=categories[key[0]].name,
            unit=units[key[1]],
            requirement=requirement,
            confirmed=confirmed,
            deployed=row.get("deployed", 0),
            indicative=row.get("indicative", 0),
            conditional=row.get("conditional", 0),
            conditional_confirmed=conditional_confirmed,
            gap=None if requirement is None else requirement - confirmed,
            gap_without_conditional=None if requirement is None else requirement - confirmed + conditional_confirmed,
            pledge_count=row.get("pledge_count", 0),
            delivered=row.get("delivered", 0),
            overdue=row.get("overdue", 0),
            stale=row.get("stale", 0),
        ))
    country_lines = sorted(
        (
            CountryLine(
                category_id=r["category_id"],
                unit_id=r["unit_id"],
                country=countries[r["country_id"]].code,
                country_name=countries[r["country_id"]].name,
                category=categories[r["category_id"]].code,
                unit=units[r["unit_id"]],
                confirmed=r["confirmed"],
                indicative=r["indicative"],
                conditional=r["conditional"],
                pledge_count=r["pledge_count"],
                delivered=r["delivered"],
                overdue=r["overdue"],
                stale=r["stale"],
            )
            for r in by_country
        ),
        key=lambda line: (line.country_name, order(line.category_id, line.unit_id)),
    )
    return ForcePicture(coalition_id=coalition.pk, as_of=moment, categories=lines, countries=country_lines,
                        on=on, assumed=dict(assume.statuses),
                        conditions=[_condition_line(state, hanging.get(state.id, {}), categories, units)
                                    for state in states.values()])



# --- where the force stands ------------------------------------------------------------------

@dataclass
class MapQuantity:
    category: str
    category_name: str
    unit: str
    quantity: int  # offered: indicative, confirmed and deployed
    confirmed: int  # confirmed or deployed


@dataclass
class MapPoint:
    place: Place
    pledge_count: int
    pledges: list[int]  # their ids; empty unless asked for (with_ids: the API's GeoJSON lists them)
    quantities: list[MapQuantity]
    # The place's share of the offered pledges the reader sees (placed or not), 0 to 1: pledges count alike
    # whatever their unit, as troops, ships and aircraft share no measure.
    weight: float


@dataclass
class ForceMap:
    coalition_id: int
    as_of: dt.datetime
    points: list[MapPoint]
    unplaced: int  # offered pledges the reader sees that have no place (their location is words only)


def coalition_map(*, coalition: Coalition, user: Reader, as_of: dt.datetime | None = None,
                  on: dt.date | None = None, assume: Assumptions = NO_ASSUMPTIONS, with_ids: bool = False) -> ForceMap:
    """The offered pledges `user` may see (now or as of a moment; available `on` a day; not fallen with a failed
    or assumed-failed condition), gathered by place: one point per place with the pledges there and the amounts
    per capability. Two aggregate queries and the names."""
    moment = as_of or timezone.now()
    rows, caveats, _deliveries = read_sources(user, as_of)
    offered = available_on(rows.filter(coalition_id=coalition.pk, status__in=OFFERED), on).order_by()
    states = condition_states(coalition_id=coalition.pk, as_of=as_of, assume=assume)
    if any(state.status == ConditionStatus.FAILED for state in states.values()):
        offered = with_condition_flags(offered, caveats, user, moment, states).filter(is_fallen=False)
    counts = offered.aggregate(total=Count("id"), unplaced=Count("id", filter=Q(place_id__isnull=True)))
    lines = list(
        offered.filter(place_id__isnull=False).values("place_id", "category_id", "unit_id")
        .annotate(offered=Sum("quantity"), committed=Coalesce(Sum("quantity", filter=Q(status__in=COMMITTED)), 0),
                  count=Count("id"), **({"ids": ArrayAgg("id", order_by="id")} if with_ids else {}))
    )
    places = Place.objects.in_bulk({line["place_id"] for line in lines})
    categories, units = categories_and_units()
    by_place: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for line in lines:
        by_place[line["place_id"]].append(line)
    points = []
    for place_id, place_lines in by_place.items():
        place_lines.sort(key=lambda r: (categories[r["category_id"]].sort_order, categories[r["category_id"]].code,
                                        units[r["unit_id"]]))
        count = sum(r["count"] for r in place_lines)
        points.append(MapPoint(
            place=places[place_id],
            pledge_count=count,
            pledges=sorted(pledge_id for r in place_lines for pledge_id in r["ids"]) if with_ids else [],
            quantities=[MapQuantity(category=categories[r["category_id"]].code,
                                    category_name=categories[r["category_id"]].name, unit=units[r["unit_id"]],
                                    quantity=r["offered"], confirmed=r["committed"]) for r in place_lines],
            weight=round(count / counts["total"], 6),
        ))
    points.sort(key=lambda p: (-p.weight, p.place.name, p.place.pk))
    return ForceMap(coalition_id=coalition.pk, as_of=moment, points=points, unplaced=counts["unplaced"])


# --- what a country's staff should look at ---------------------------------------------------

@dataclass
class CountryAttention:
    """A country's pledges that need its staff: offers not reconfirmed in time, tranches past their day,
    drafts not yet offered. Querysets, so a page can take the first few and count the rest."""

    stale: QuerySet[Any]
    overdue: QuerySet[Delivery]
    drafts: QuerySet[Any]
    caveats: QuerySet[Caveat]  # in force, on a pledge or country-wide


def country_attention(*, user: SignedIn, coalition_id: int | None = None) -> CountryAttention:
    """What `user`'s country has pending (in one coalition, or in all), read as `user` may see it."""
    pledges = pledge_list(user=user).filter(country_id=user.country_id)
    if coalition_id is not None:
        pledges = pledges.filter(coalition_id=coalition_id)
    in_order = ("category__sort_order", "id")
    return CountryAttention(
        stale=pledges.filter(is_stale=True).order_by("reconfirmed_at", *in_order),
        overdue=Delivery.objects.filter(
            pledge__in=pledges.order_by().values("id"), delivered_on__isnull=True,
            planned_on__lt=timezone.localdate(),
        ).select_related("pledge__coalition", "pledge__category", "pledge__unit").order_by("planned_on", "id"),
        drafts=pledges.filter(status=PledgeStatus.DRAFT).order_by("coalition__short_name", *in_order),
        caveats=caveats_visible_to(user).filter(
            **({} if coalition_id is None else {"coalition_id": coalition_id}), country_id=user.country_id,
            is_active=True,
        ).select_related("coalition", "pledge__category").order_by("coalition__short_name", "kind", "id"),
    )


def pledge_counts_by_status(*, user: MinistryStaff) -> dict[str, int]:
    """How many of `user`'s country's pledges stand at each status (every status named, zeros included)."""
    counts = dict(
        Pledge.objects.filter(pledge_visibility_q(user), country_id=user.country_id)
        .order_by().values_list("status").annotate(n=Count("id"))
    )
    return {status: counts.get(status, 0) for status in PledgeStatus.values}
