"""The past as each reader may see it: states at a moment, the versions of one object, changes between moments.

The rule (DESIGN.md): a reader sees a past version of a pledge or caveat only if that version was visible to
them while it was current. So no draft-era or secretariat-only wording reaches anyone through history, as-of
or changes. Every read of the past goes through this module:

- `pledges_as_of` / `caveats_as_of`: the rows as they stood at a moment, filtered by the visibility rule applied
  to that moment's rows: a caveat is judged against its pledge as the pledge stood then, not as it stands now;
- `pledge_versions` / `caveat_versions`: every version of one object the reader could see, each from the moment
  it became visible to them (the history pages);
- `pledge_changes` / `caveat_changes`: what changed between two moments, the reader's view at one against
  their view at the other.

The triggers of django-pghistory write one history row (event) per insert, update and delete, stamped with
its transaction's NOW(): the rows of one transaction share a moment, and the last of them is the state the
transaction left. The set queries below (state_as_of) and the per-object walks (versions) read them alike.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from accounts.roles import Reader
from pledges.models import Caveat, Coalition, Condition, Delivery, Pledge, PledgeStatus, Requirement
from pledges.visibility import (
    among,
    caveat_visibility_q,
    coalitions_visible_to,
    delivery_visibility_q,
    may_see_caveat,
    may_see_pledge,
    pledge_visibility_q,
)
from utilities.versioning import Step, Version, events_of, state_at, steps, versions_seen

PledgeEvent = Pledge.pgh_event_model  # type: ignore[attr-defined]
CaveatEvent = Caveat.pgh_event_model  # type: ignore[attr-defined]
RequirementEvent = Requirement.pgh_event_model  # type: ignore[attr-defined]
DeliveryEvent = Delivery.pgh_event_model  # type: ignore[attr-defined]
ConditionEvent = Condition.pgh_event_model  # type: ignore[attr-defined]

PLEDGE_FIELDS = (
    "country_id", "coalition_id", "category_id", "unit_id", "quantity", "description", "available_from",
    "available_until", "notice_to_move_days", "location", "place_id", "estimated_value_eur", "status",
    "releasability",
)


# --- states at a moment (sets of rows, in SQL) ---------------------------------------------------------

def state_as_of(event_model: Any, as_of: dt.datetime) -> QuerySet[Any]:
    """The last snapshot of every object at `as_of`, objects deleted by then left out; no visibility applied.

    The result has the tracked model's field names (plus pgh_*), so the visibility rules and aggregates
    written for live rows apply unchanged. Shape: the events made by `as_of` and not yet replaced then
    (`pgh_superseded_at`, kept by a trigger; utilities.versioning.tracked): a filter on each row, no self-join and
    no DISTINCT over the whole history, so it stays fast inside correlated subqueries and on a database whose
    statistics are missing or stale (bench/plans.py).
    """
    return event_model.objects.filter(
        Q(pgh_superseded_at__isnull=True) | Q(pgh_superseded_at__gt=as_of), pgh_created_at__lte=as_of,
    ).exclude(pgh_label="delete")


def unchanged_since(moment: dt.datetime, *event_models: Any) -> bool:
    """True when nothing tracked by these event models changed after `moment`: the live rows are then
    exactly the rows as they stood, and far cheaper to read than the history (a brief asks for the
    data as of the moment it was requested, usually seconds ago)."""
    checks = " OR ".join(
        f"EXISTS (SELECT 1 FROM {model._meta.db_table} WHERE pgh_created_at > %s)"  # noqa: S608 - model tables
        for model in event_models
    )
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {checks}", [moment] * len(event_models))
        return not cursor.fetchone()[0]


def pledges_as_of(user: Reader, moment: dt.datetime) -> QuerySet[Any]:
    """Pledge rows as they stood at `moment` that `user` could see then (a pledge's visibility is its own)."""
    return state_as_of(PledgeEvent, moment).filter(pledge_visibility_q(user))


def caveats_as_of(user: Reader, moment: dt.datetime, *, live: bool | None = None) -> QuerySet[Any]:
    """Caveat rows as they stood at `moment` that `user` could see then, each judged with its pledge as it
    stood then. When nothing changed since (`live`, asked of the database unless the caller knows), the live
    rows: the same content, cheaper."""
    if live is None:
        live = unchanged_since(moment, PledgeEvent, CaveatEvent)
    if live:
        return Caveat.objects.filter(caveat_visibility_q(user))
    pledges_then = pledges_as_of(user, moment).values("id")
    return state_as_of(CaveatEvent, moment).filter(caveat_visibility_q(user, visible_pledge_ids=pledges_then))


def deliveries_as_of(user: Reader, moment: dt.datetime) -> QuerySet[Any]:
    """Tranches as they stood at `moment` that `user` could see then (with their pledge as it stood then)."""
    pledges_then = pledges_as_of(user, moment).values("id")
    return state_as_of(DeliveryEvent, moment).filter(delivery_visibility_q(user, visible_pledge_ids=pledges_then))


# --- one object's versions (a walk in Python, with the same rule) ------------------------------------

def pledge_seen(user: Reader, pledge_events: list[Any]) -> list[Step]:
    """One pledge as `user` saw it from each moment on: its row, or None while hidden from them or gone."""
    return [Step(step.when, step.row if step.row is not None and may_see_pledge(user, step.row) else None,
                 step.events) for step in steps(pledge_events)]


def caveat_seen(user: Reader, caveat_events: list[Any], pledge_events: list[Any]) -> list[Step]:
    """One caveat as `user` saw it from each moment on. It changes when the caveat does, and when its pledge
    does (a caveat written on a draft becomes visible to others when the pledge is offered)."""
    return _seen_with_pledge(caveat_events, pledge_events, lambda row, pledge: may_see_caveat(user, row, pledge))


def delivery_seen(user: Reader, delivery_events: list[Any], pledge_events: list[Any]) -> list[Step]:
    """One tranche as `user` saw it from each moment on: visible while its pledge was."""
    return _seen_with_pledge(delivery_events, pledge_events,
                             lambda row, pledge: pledge is not None and may_see_pledge(user, pledge))


def _seen_with_pledge(events: list[Any], pledge_events: list[Any],
                      visible: Callable[[Any, Any], bool]) -> list[Step]:
    own_steps, pledges = steps(events), steps(pledge_events)
    own = {step.when: step.events for step in own_steps}
    seen: list[Step] = []
    for when in sorted(own.keys() | {step.when for step in pledges}):
        row = state_at(own_steps, when)
        pledge = state_at(pledges, when) if row is not None and row.pledge_id is not None else None
        seen.append(Step(when, row if row is not None and visible(row, pledge) else None, own.get(when, ())))
    return seen


def pledge_versions(*, user: Reader, pledge_id: int) -> list[Version]:
    """Every version of one pledge `user` could see while it was current, oldest first."""
    return versions_seen(pledge_seen(user, events_of(PledgeEvent, pgh_obj_id=pledge_id)))


def caveat_versions(*, user: Reader, caveat_id: int) -> list[Version]:
    """Every version of one caveat `user` could see while it was current, oldest first."""
    events = events_of(CaveatEvent, pgh_obj_id=caveat_id)
    return versions_seen(caveat_seen(user, events, _events_of_their_pledges(events)))


def delivery_versions(*, user: Reader, delivery_id: int) -> list[Version]:
    """Every version of one tranche `user` could see while it was current, oldest first."""
    events = events_of(DeliveryEvent, pgh_obj_id=delivery_id)
    return versions_seen(delivery_seen(user, events, _events_of_their_pledges(events)))


def _events_of_their_pledges(events: list[Any]) -> list[Any]:
    pledge_ids = {event.pledge_id for event in events if event.pledge_id is not None}
    return events_of(PledgeEvent, pgh_obj_id__in=pledge_ids) if pledge_ids else []


# --- changes between two moments -----------------------------------------------------------------------

def settled_moment() -> dt.datetime:
    """The latest moment whose history can no longer change. A history row carries its transaction's start
    (NOW()), and commits later: until every transaction running now has ended, rows dated before now may still
    appear. So: just before the start of the oldest transaction still open on the database (now, if none).
    Changes read up to this moment are the same at every later reading, which keeps a cursor honest."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT now(), min(xact_start) FROM pg_stat_activity WHERE xact_start IS NOT NULL "
            "AND pid <> pg_backend_pid() AND datname = current_database() AND backend_type = 'client backend'"
        )
        now, oldest = cursor.fetchone()
    return now if oldest is None or oldest > now else oldest - dt.timedelta(microseconds=1)


@dataclass(frozen=True)
class PledgeChange:
    pledge_id: int
    kind: str  # new | raised | lowered | withdrawn | status | changed | removed
    country: str
    category: str
    unit: str
    at: dt.datetime
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    quantity_before: int | None = None
    quantity_after: int | None = None
    status_before: str | None = None
    status_after: str | None = None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["fields"] = {name: {"before": b, "after": a} for name, (b, a) in self.fields.items()}
        return data


def _change_kind(before: Any, after: Any) -> str:
    if before is None:
        return "new"
    if after is None:
        return "removed"
    if after.status == PledgeStatus.WITHDRAWN and before.status != PledgeStatus.WITHDRAWN:
        return "withdrawn"
    if after.quantity > before.quantity and after.unit_id == before.unit_id:
        return "raised"
    if after.quantity < before.quantity and after.unit_id == before.unit_id:
        return "lowered"
    if after.status != before.status:
        return "status"
    return "changed"


def in_id_order(candidates: QuerySet[Any], compute: Callable[[Any], list[Any]], after: int | None,
                 limit: int | None) -> list[Any]:
    """The changes among `candidates` (history rows; their objects' ids) in id order: all of them, or (keyset
    paging) at most `limit` + 1 of those after the id `after`, computing them a batch of ids at a time."""
    ids = candidates.order_by("pgh_obj_id").values_list("pgh_obj_id", flat=True).distinct()
    if after is not None:
        ids = ids.filter(pgh_obj_id__gt=after)
    if limit is None:
        return compute(ids)  # one subquery in each query of `compute`
    found: list[Any] = []
    batch = max(2 * (limit + 1), 50)
    while len(found) <= limit:
        chunk = list(ids[:batch])
        if not chunk:
            break
        found += compute(chunk)
        if len(chunk) < batch:
            break
        ids = ids.filter(pgh_obj_id__gt=chunk[-1])
    return found[: limit + 1]


def pledge_changes(
    *, user: Reader, since: dt.datetime, until: dt.datetime | None = None, coalition: Coalition | None = None,
    after: int | None = None, limit: int | None = None,
) -> list[PledgeChange]:
    """What changed in the pledges `user` may see between `since` and `until` (default: now), field by field:
    their view at `since` against their view at `until`, in pledge id order (`after`, `limit`: a page of them).

    A pledge the user could not see at `since` (say, still a draft) and can see at `until` is new to them;
    one they could see then and cannot now has been removed from view.
    """
    until = until or timezone.now()
    touched = PledgeEvent.objects.filter(pgh_created_at__gt=since, pgh_created_at__lte=until)
    if coalition is not None:
        touched = touched.filter(coalition_id=coalition.pk)

    def compute(ids: Any) -> list[PledgeChange]:
        def seen_at(moment: dt.datetime) -> dict[int, Any]:
            rows = pledges_as_of(user, moment).filter(id__in=ids).select_related("country", "category", "unit")
            return {row.id: row for row in rows}

        before, now = seen_at(since), seen_at(until)
        return [change for pledge_id in sorted(set(before) | set(now))
                if (change := _pledge_change(pledge_id, before.get(pledge_id), now.get(pledge_id)))]

    return in_id_order(touched, compute, after, limit)


def _pledge_change(pledge_id: int, old: Any, new: Any) -> PledgeChange | None:
    if old is not None and new is not None and all(getattr(old, f) == getattr(new, f) for f in PLEDGE_FIELDS):
        return None
    latest: Any = new or old
    diff = {
        name: (getattr(old, name) if old else None, getattr(new, name) if new else None)
        for name in PLEDGE_FIELDS
        if (getattr(old, name) if old else None) != (getattr(new, name) if new else None)
    }
    return PledgeChange(
        pledge_id=pledge_id, kind=_change_kind(old, new), country=latest.country.code,
        category=latest.category.code, unit=latest.unit.code, at=latest.pgh_created_at, fields=diff,
        quantity_before=old.quantity if old else None, quantity_after=new.quantity if new else None,
        status_before=old.status if old else None, status_after=new.status if new else None,
    )


@dataclass(frozen=True)
class CaveatChange:
    caveat_id: int
    kind: str  # added | lifted
    caveat_kind: str
    country: str
    text: str
    rationale: str
    pledge_id: int | None
    at: dt.datetime


def caveat_changes(
    *, user: Reader, since: dt.datetime, until: dt.datetime | None = None, coalition: Coalition | None = None,
    after: int | None = None, limit: int | None = None,
) -> list[CaveatChange]:
    """Caveats added or lifted between two moments as `user` saw them: active in their view at `until` and not
    at `since` (added; also a caveat that came into their view, e.g. when its pledge was offered), or the
    reverse (lifted). Its text is the one they could see at `until`; `at` is when it took that state for them.
    In caveat id order (`after`, `limit`: a page of them).
    """
    until = until or timezone.now()
    window = Q(pgh_created_at__gt=since, pgh_created_at__lte=until)
    caveat_events, pledge_events = CaveatEvent.objects.filter(window), PledgeEvent.objects.filter(window)
    if coalition is not None:
        caveat_events = caveat_events.filter(coalition_id=coalition.pk)
        pledge_events = pledge_events.filter(coalition_id=coalition.pk)
    # Touched: changed themselves, or their pledge changed (a pledge offered shows its caveats to others).
    touched = CaveatEvent.objects.filter(
        among("pgh_id", caveat_events.values("pgh_id")) | among("pledge_id", pledge_events.values("pgh_obj_id"))
    )
    live_at_until: list[bool] = []

    def compute(ids: Any) -> list[CaveatChange]:
        if not live_at_until:  # asked once: nothing changed after `until`?
            live_at_until.append(unchanged_since(until, PledgeEvent, CaveatEvent))
        # Something changed after `since` (that is how the caveat was touched): its rows are history rows.
        before = {row.id for row in caveats_as_of(user, since, live=False).filter(id__in=ids, is_active=True)}
        now = {row.id: row for row in caveats_as_of(user, until, live=live_at_until[0]).filter(id__in=ids)
               .select_related("country")}
        changed = {caveat_id: ("added" if row.is_active else "lifted")
                   for caveat_id, row in now.items() if row.is_active != (caveat_id in before)}
        return [
            CaveatChange(
                caveat_id=caveat_id, kind=kind, caveat_kind=now[caveat_id].kind, country=now[caveat_id].country.code,
                text=now[caveat_id].text, rationale=now[caveat_id].rationale, pledge_id=now[caveat_id].pledge_id,
                at=at,
            )
            for caveat_id, kind, at in _when_changed(user, changed, since, until)
        ]

    return in_id_order(touched, compute, after, limit)


def _when_changed(user: Reader, changed: dict[int, str], since: dt.datetime,
                  until: dt.datetime) -> list[tuple[int, str, dt.datetime]]:
    """For each changed caveat, the moment within (since, until] from which the user saw it in its final state
    (active, or lifted) without a break."""
    if not changed:
        return []
    events = events_of(CaveatEvent, pgh_obj_id__in=changed, pgh_created_at__lte=until)
    pledge_ids = {event.pledge_id for event in events if event.pledge_id is not None}
    pledge_events = events_of(PledgeEvent, pgh_obj_id__in=pledge_ids, pgh_created_at__lte=until) if pledge_ids else []
    by_caveat: dict[int, list[Any]] = {caveat_id: [] for caveat_id in changed}
    for event in events:
        by_caveat[event.pgh_obj_id].append(event)
    by_pledge: dict[int, list[Any]] = {}
    for event in pledge_events:
        by_pledge.setdefault(event.pgh_obj_id, []).append(event)
    result = []
    for caveat_id, kind in sorted(changed.items()):
        pledge_id = next((e.pledge_id for e in by_caveat[caveat_id] if e.pledge_id is not None), None)
        seen = caveat_seen(user, by_caveat[caveat_id], by_pledge.get(pledge_id, []) if pledge_id else [])
        at = until
        for step in reversed(seen):
            if step.when <= since or step.row is None or bool(step.row.is_active) != (kind == "added"):
                break
            at = step.when
        result.append((caveat_id, kind, at))
    return result


@dataclass(frozen=True)
class DeliveryChange:
    delivery_id: int
    kind: str  # planned | delivered | changed | removed
    pledge_id: int
    country: str
    category: str
    unit: str
    quantity_before: int | None
    quantity_after: int | None
    planned_on: dt.date | None
    delivered_on: dt.date | None
    at: dt.datetime


def delivery_changes(
    *, user: Reader, since: dt.datetime, until: dt.datetime | None = None, coalition: Coalition | None = None,
    after: int | None = None, limit: int | None = None,
) -> list[DeliveryChange]:
    """Tranches planned, delivered, changed or removed between two moments as `user` saw them (their view at
    `since` against their view at `until`), in tranche id order (`after`, `limit`: a page of them)."""
    until = until or timezone.now()
    window = Q(pgh_created_at__gt=since, pgh_created_at__lte=until)
    pledge_events = PledgeEvent.objects.filter(window)
    if coalition is not None:
        pledge_events = pledge_events.filter(coalition_id=coalition.pk)
    coalition_pledges = Pledge.objects.filter(coalition_id=coalition.pk) if coalition is not None else None
    delivery_events = DeliveryEvent.objects.filter(window)
    if coalition_pledges is not None:
        delivery_events = delivery_events.filter(pledge_id__in=coalition_pledges.values("id"))
    touched = DeliveryEvent.objects.filter(
        among("pgh_id", delivery_events.values("pgh_id")) | among("pledge_id", pledge_events.values("pgh_obj_id"))
    )

    def compute(ids: Any) -> list[DeliveryChange]:
        before = {row.id: row for row in deliveries_as_of(user, since).filter(id__in=ids)}
        now = {row.id: row for row in deliveries_as_of(user, until).filter(id__in=ids)}
        pledges = {row.id: row for row in pledges_as_of(user, until).filter(
            id__in={row.pledge_id for row in (*before.values(), *now.values())}).select_related(
            "country", "category", "unit")}
        found = []
        for delivery_id in sorted(before.keys() | now.keys()):
            old, new = before.get(delivery_id), now.get(delivery_id)
            if old is not None and new is not None and all(
                    getattr(old, f) == getattr(new, f) for f in ("quantity", "planned_on", "delivered_on")):
                continue
            latest: Any = new or old
            pledge = pledges.get(latest.pledge_id)
            if pledge is None:  # the pledge itself left the reader's view: its pledge change says so
                continue
            if new is None:
                kind = "removed"
            elif new.delivered_on is not None and (old is None or old.delivered_on is None):
                kind = "delivered"
            elif old is None:
                kind = "planned"
            else:
                kind = "changed"
            found.append(DeliveryChange(
                delivery_id=delivery_id, kind=kind, pledge_id=latest.pledge_id, country=pledge.country.code,
                category=pledge.category.code, unit=pledge.unit.code,
                quantity_before=old.quantity if old else None, quantity_after=new.quantity if new else None,
                planned_on=latest.planned_on, delivered_on=new.delivered_on if new else None,
                at=latest.pgh_created_at,
            ))
        return found

    return in_id_order(touched, compute, after, limit)


@dataclass(frozen=True)
class ConditionChange:
    condition_id: int
    kind: str  # named | decided | reopened | changed | removed
    coalition: int
    name: str
    status_before: str | None
    status_after: str | None
    decided_on: dt.date | None
    at: dt.datetime


def condition_changes(
    *, user: Reader, since: dt.datetime, until: dt.datetime | None = None, coalition: Coalition | None = None,
    after: int | None = None, limit: int | None = None,
) -> list[ConditionChange]:
    """Named conditions made, decided (met or failed), opened again, renamed or removed between two moments, of
    the coalitions `user` sees, in condition id order (`after`, `limit`: a page of them)."""
    until = until or timezone.now()
    visible = coalitions_visible_to(user).values("pk")
    touched = ConditionEvent.objects.filter(pgh_created_at__gt=since, pgh_created_at__lte=until,
                                            coalition_id__in=visible)
    if coalition is not None:
        touched = touched.filter(coalition_id=coalition.pk)

    def compute(ids: Any) -> list[ConditionChange]:
        before = {row.id: row for row in state_as_of(ConditionEvent, since).filter(id__in=ids)}
        now = {row.id: row for row in state_as_of(ConditionEvent, until).filter(id__in=ids)}
        found = []
        for condition_id in sorted(before.keys() | now.keys()):
            old, new = before.get(condition_id), now.get(condition_id)
            if old is not None and new is not None and all(
                    getattr(old, f) == getattr(new, f) for f in ("name", "description", "status", "decided_on")):
                continue
            latest: Any = new or old
            if new is None:
                kind = "removed"
            elif old is None:
                kind = "named"
            elif old.status != new.status:
                kind = "reopened" if new.status == "open" else "decided"
            else:
                kind = "changed"
            found.append(ConditionChange(
                condition_id=condition_id, kind=kind, coalition=latest.coalition_id, name=latest.name,
                status_before=old.status if old else None, status_after=new.status if new else None,
                decided_on=new.decided_on if new else None, at=latest.pgh_created_at,
            ))
        return found

    return in_id_order(touched, compute, after, limit)


# --- changes, page by page -----------------------------------------------------------------------------

# (name, changes_of, id field), in the order the pages walk them. The records of the floors above (a meeting's
# outcomes) are added by their own app (register_change_section, from its AppConfig.ready): pledges imports none.
CHANGE_SECTIONS: list[tuple[str, Callable[..., list[Any]], str]] = [
    ("pledges", pledge_changes, "pledge_id"),
    ("caveats", caveat_changes, "caveat_id"),
    ("deliveries", delivery_changes, "delivery_id"),
    ("conditions", condition_changes, "condition_id"),
]


def register_change_section(name: str, changes_of: Callable[..., list[Any]], id_field: str) -> None:
    """Add a section to the changes feed, walked after those already there. `changes_of` takes the keywords of
    `condition_changes` (user, since, until, coalition, after, limit) and answers changes in id order, each with
    `id_field`. Registering a name twice keeps the first."""
    if name not in {known for known, _, _ in CHANGE_SECTIONS}:
        CHANGE_SECTIONS.append((name, changes_of, id_field))
_CURSOR_SALT = "pledges.history.changes-cursor"


@dataclass(frozen=True)
class ChangesWindow:
    """A walk through the changes between two moments: the window (since, until, coalition) and where the
    walk stands (the section, and the last id given in it). `until` is settled (settled_moment) when the walk
    starts, so every page reads the same history and the walk skips and repeats nothing."""

    since: dt.datetime
    until: dt.datetime
    coalition: int | None = None
    section: str = CHANGE_SECTIONS[0][0]
    after: int | None = None

    @classmethod
    def start(cls, *, since: dt.datetime, until: dt.datetime | None = None,
              coalition: Coalition | None = None) -> ChangesWindow:
        settled = settled_moment()
        return cls(since=since, until=min(until, settled) if until else settled,
                   coalition=coalition.pk if coalition else None)

    def cursor(self) -> str:
        from django.core import signing

        return signing.dumps({"since": self.since.isoformat(), "until": self.until.isoformat(),
                              "coalition": self.coalition, "section": self.section, "after": self.after},
                             salt=_CURSOR_SALT, compress=True)

    @classmethod
    def from_cursor(cls, text: str) -> ChangesWindow:
        from django.core import signing
        from django.core.exceptions import ValidationError

        try:
            data = signing.loads(text, salt=_CURSOR_SALT)
            window = cls(since=dt.datetime.fromisoformat(data["since"]), until=dt.datetime.fromisoformat(data["until"]),
                         coalition=data["coalition"], section=data["section"], after=data["after"])
        except (signing.BadSignature, KeyError, TypeError, ValueError):
            raise ValidationError({"cursor": gettext("Not a cursor of this API; start again from since.")}) from None
        if window.section not in {name for name, _, _ in CHANGE_SECTIONS}:
            raise ValidationError({"cursor": gettext("Not a cursor of this API; start again from since.")})
        return window

    def page(self, *, user: Reader, coalition: Coalition | None, size: int) -> tuple[dict[str, list[Any]],
                                                                                  ChangesWindow | None]:
        """The next `size` changes (pledges first, then caveats) and where the walk goes on (None: done)."""
        page: dict[str, list[Any]] = {name: [] for name, _, _ in CHANGE_SECTIONS}
        names = [name for name, _, _ in CHANGE_SECTIONS]
        room = size
        for index in range(names.index(self.section), len(CHANGE_SECTIONS)):
            name, changes_of, id_field = CHANGE_SECTIONS[index]
            after = self.after if name == self.section else None
            rows = changes_of(user=user, since=self.since, until=self.until, coalition=coalition, after=after,
                              limit=room)
            if len(rows) > room:
                page[name] = rows[:room]
                return page, ChangesWindow(self.since, self.until, self.coalition, name,
                                           getattr(rows[room - 1], id_field))
            page[name] = rows
            room -= len(rows)
            if room == 0 and index + 1 < len(CHANGE_SECTIONS):
                return page, ChangesWindow(self.since, self.until, self.coalition, names[index + 1], None)
        return page, None
