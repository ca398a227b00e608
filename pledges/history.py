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

import bisect
import datetime as dt
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db import connection
from django.db.models import QuerySet, Subquery
from django.utils import timezone

from pledges.models import Caveat, Coalition, Pledge, PledgeStatus, Requirement
from pledges.visibility import caveat_visibility_q, may_see_caveat, may_see_pledge, pledge_visibility_q

PledgeEvent = Pledge.pgh_event_model  # type: ignore[attr-defined]
CaveatEvent = Caveat.pgh_event_model  # type: ignore[attr-defined]
RequirementEvent = Requirement.pgh_event_model  # type: ignore[attr-defined]

PLEDGE_FIELDS = (
    "country_id", "coalition_id", "category_id", "unit_id", "quantity", "description", "available_from",
    "available_until", "notice_to_move_days", "location", "estimated_value_eur", "status", "releasability",
)


# --- states at a moment (sets of rows, in SQL) ---------------------------------------------------------

def state_as_of(event_model: Any, as_of: dt.datetime) -> QuerySet[Any]:
    """The last snapshot of every object at `as_of`, objects deleted by then left out; no visibility applied.

    The result has the tracked model's field names (plus pgh_*), so the visibility rules and aggregates
    written for live rows apply unchanged.
    """
    latest = (
        event_model.objects.filter(pgh_created_at__lte=as_of)
        .order_by("pgh_obj_id", "-pgh_created_at", "-pgh_id")
        .distinct("pgh_obj_id")
        .values("pgh_id")
    )
    return event_model.objects.filter(pgh_id__in=Subquery(latest)).exclude(pgh_label="delete")


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


def pledges_as_of(user: Any, moment: dt.datetime) -> QuerySet[Any]:
    """Pledge rows as they stood at `moment` that `user` could see then (a pledge's visibility is its own)."""
    return state_as_of(PledgeEvent, moment).filter(pledge_visibility_q(user))


def caveats_as_of(user: Any, moment: dt.datetime, *, live: bool | None = None) -> QuerySet[Any]:
    """Caveat rows as they stood at `moment` that `user` could see then, each judged with its pledge as it
    stood then. When nothing changed since (`live`, asked of the database unless the caller knows), the live
    rows: the same content, cheaper."""
    if live is None:
        live = unchanged_since(moment, PledgeEvent, CaveatEvent)
    if live:
        return Caveat.objects.filter(caveat_visibility_q(user))
    pledges_then = pledges_as_of(user, moment).values("id")
    return state_as_of(CaveatEvent, moment).filter(caveat_visibility_q(user, visible_pledge_ids=pledges_then))


# --- one object's versions (a walk in Python, with the same rule) ------------------------------------

@dataclass(frozen=True)
class Step:
    """An object from a moment on: its row (None: gone, or hidden from the reader) and the history rows
    written at that moment (one transaction's; the last of them is the row it left)."""

    when: dt.datetime
    row: Any
    events: tuple[Any, ...]


def _steps(events: Iterable[Any]) -> list[Step]:
    """The object's state after each moment it changed. Events of one transaction share a moment: the last is
    the state it left (an intermediate row of a transaction was never current, nor visible to anyone)."""
    steps: list[Step] = []
    for event in events:  # ordered by pgh_created_at, pgh_id
        row = None if event.pgh_label == "delete" else event
        if steps and steps[-1].when == event.pgh_created_at:
            steps[-1] = Step(event.pgh_created_at, row, (*steps[-1].events, event))
        else:
            steps.append(Step(event.pgh_created_at, row, (event,)))
    return steps


def _at(steps: list[Step], moment: dt.datetime) -> Any:
    index = bisect.bisect_right([step.when for step in steps], moment)
    return steps[index - 1].row if index else None


def _events(event_model: Any, **where: Any) -> list[Any]:
    return list(event_model.objects.filter(**where).select_related("pgh_context").order_by("pgh_created_at", "pgh_id"))


def pledge_seen(user: Any, pledge_events: list[Any]) -> list[Step]:
    """One pledge as `user` saw it from each moment on: its row, or None while hidden from them or gone."""
    return [Step(step.when, step.row if step.row is not None and may_see_pledge(user, step.row) else None,
                 step.events) for step in _steps(pledge_events)]


def caveat_seen(user: Any, caveat_events: list[Any], pledge_events: list[Any]) -> list[Step]:
    """One caveat as `user` saw it from each moment on. It changes when the caveat does, and when its pledge
    does (a caveat written on a draft becomes visible to others when the pledge is offered)."""
    caveats, pledges = _steps(caveat_events), _steps(pledge_events)
    own = {step.when: step.events for step in caveats}
    seen: list[Step] = []
    for when in sorted(own.keys() | {step.when for step in pledges}):
        row = _at(caveats, when)
        pledge = _at(pledges, when) if row is not None and row.pledge_id is not None else None
        visible = row is not None and may_see_caveat(user, row, pledge)
        seen.append(Step(when, row if visible else None, own.get(when, ())))
    return seen


@dataclass(frozen=True)
class Version:
    """A version of an object as one reader saw it: the history row, when it became visible to them (when it
    was made, or later, when what hid it changed: a pledge offered, a text released), and the history rows
    of the transaction that made it (their actions: one save may update and move a pledge)."""

    row: Any
    shown_from: dt.datetime
    events: tuple[Any, ...]


def _versions(seen: list[Step]) -> list[Version]:
    versions: list[Version] = []
    shown: set[int] = set()
    for step in seen:
        row = step.row
        if row is not None and row.pgh_id not in shown:
            shown.add(row.pgh_id)
            made_by = step.events if row in step.events else (row,)
            versions.append(Version(row, step.when, made_by))
    return versions


def pledge_versions(*, user: Any, pledge_id: int) -> list[Version]:
    """Every version of one pledge `user` could see while it was current, oldest first."""
    return _versions(pledge_seen(user, _events(PledgeEvent, pgh_obj_id=pledge_id)))


def caveat_versions(*, user: Any, caveat_id: int) -> list[Version]:
    """Every version of one caveat `user` could see while it was current, oldest first."""
    events = _events(CaveatEvent, pgh_obj_id=caveat_id)
    pledge_ids = {event.pledge_id for event in events if event.pledge_id is not None}
    pledge_events = _events(PledgeEvent, pgh_obj_id__in=pledge_ids) if pledge_ids else []
    return _versions(caveat_seen(user, events, pledge_events))


# --- changes between two moments -----------------------------------------------------------------------

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


def pledge_changes(
    *, user: Any, since: dt.datetime, until: dt.datetime | None = None, coalition: Coalition | None = None
) -> list[PledgeChange]:
    """What changed in the pledges `user` may see between `since` and `until` (default: now), field by field:
    their view at `since` against their view at `until`.

    A pledge the user could not see at `since` (say, still a draft) and can see at `until` is new to them;
    one they could see then and cannot now has been removed from view.
    """
    until = until or timezone.now()
    touched = PledgeEvent.objects.filter(pgh_created_at__gt=since, pgh_created_at__lte=until)
    if coalition is not None:
        touched = touched.filter(coalition_id=coalition.pk)
    ids = touched.values("pgh_obj_id")

    def seen_at(moment: dt.datetime) -> dict[int, Any]:
        rows = pledges_as_of(user, moment).filter(id__in=ids).select_related("country", "category", "unit")
        return {row.id: row for row in rows}

    before, after = seen_at(since), seen_at(until)
    changes: list[PledgeChange] = []
    for pledge_id in sorted(set(before) | set(after)):
        old, new = before.get(pledge_id), after.get(pledge_id)
        if old is not None and new is not None and all(getattr(old, f) == getattr(new, f) for f in PLEDGE_FIELDS):
            continue
        latest: Any = new or old
        diff = {
            name: (getattr(old, name) if old else None, getattr(new, name) if new else None)
            for name in PLEDGE_FIELDS
            if (getattr(old, name) if old else None) != (getattr(new, name) if new else None)
        }
        changes.append(PledgeChange(
            pledge_id=pledge_id, kind=_change_kind(old, new), country=latest.country.code,
            category=latest.category.code, unit=latest.unit.code, at=latest.pgh_created_at, fields=diff,
            quantity_before=old.quantity if old else None, quantity_after=new.quantity if new else None,
            status_before=old.status if old else None, status_after=new.status if new else None,
        ))
    return changes


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
    *, user: Any, since: dt.datetime, until: dt.datetime | None = None, coalition: Coalition | None = None
) -> list[CaveatChange]:
    """Caveats added or lifted between two moments as `user` saw them: active in their view at `until` and not
    at `since` (added; also a caveat that came into their view, e.g. when its pledge was offered), or the
    reverse (lifted). Its text is the one they could see at `until`; `at` is when it took that state for them.
    """
    until = until or timezone.now()
    window = {"pgh_created_at__gt": since, "pgh_created_at__lte": until}
    caveat_events, pledge_events = CaveatEvent.objects.filter(**window), PledgeEvent.objects.filter(**window)
    if coalition is not None:
        caveat_events = caveat_events.filter(coalition_id=coalition.pk)
        pledge_events = pledge_events.filter(coalition_id=coalition.pk)
    on_touched_pledges = CaveatEvent.objects.filter(pledge_id__in=pledge_events.values("pgh_obj_id"))
    touched = set(caveat_events.values_list("pgh_obj_id", flat=True).union(
        on_touched_pledges.values_list("pgh_obj_id", flat=True)))
    if not touched:
        return []
    # Something changed after `since` (that is how the caveat was touched): its rows are history rows.
    before = {row.id: row for row in caveats_as_of(user, since, live=False).filter(id__in=touched, is_active=True)}
    after = {row.id: row for row in caveats_as_of(user, until).filter(id__in=touched).select_related("country")}
    changed = {
        caveat_id: ("added" if row.is_active else "lifted")
        for caveat_id, row in after.items()
        if row.is_active != (caveat_id in before)
    }
    return [
        CaveatChange(
            caveat_id=caveat_id, kind=kind, caveat_kind=after[caveat_id].kind, country=after[caveat_id].country.code,
            text=after[caveat_id].text, rationale=after[caveat_id].rationale, pledge_id=after[caveat_id].pledge_id,
            at=at,
        )
        for caveat_id, kind, at in _when_changed(user, changed, since, until)
    ]


def _when_changed(user: Any, changed: dict[int, str], since: dt.datetime,
                  until: dt.datetime) -> list[tuple[int, str, dt.datetime]]:
    """For each changed caveat, the moment within (since, until] from which the user saw it in its final state
    (active, or lifted) without a break."""
    if not changed:
        return []
    events = _events(CaveatEvent, pgh_obj_id__in=changed, pgh_created_at__lte=until)
    pledge_ids = {event.pledge_id for event in events if event.pledge_id is not None}
    pledge_events = _events(PledgeEvent, pgh_obj_id__in=pledge_ids, pgh_created_at__lte=until) if pledge_ids else []
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
