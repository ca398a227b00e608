"""The outcomes in the changes feed (`/api/v1/pledges/changes/` as `outcomes`): recorded, closed (done or
dropped), opened again, changed or removed between two moments, of the meetings of the coalitions a reader sees."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from accounts.roles import Reader
from outcomes.models import CLOSED_STATUSES, OutcomeStatus
from outcomes.selectors import OutcomeEvent, outcome_visibility_q
from pledges.history import in_id_order, state_as_of
from pledges.models import Coalition, Country

OUTCOME_CHANGE_KINDS = ("recorded", "closed", "reopened", "changed", "removed")
COMPARED = ("kind", "text", "owner_id", "due_on", "status", "note", "closed_on")


@dataclass(frozen=True)
class OutcomeChange:
    outcome_id: int
    kind: str  # recorded | closed | reopened | changed | removed
    meeting: int
    outcome_kind: str
    text: str
    owner: str | None
    due_on: dt.date | None
    status_before: str | None
    status_after: str | None
    at: dt.datetime


def _kind(old: Any, new: Any) -> str:
    if new is None:
        return "removed"
    if old is None:
        return "recorded"
    if old.status != new.status and new.status in CLOSED_STATUSES:
        return "closed"
    if old.status in CLOSED_STATUSES and new.status == OutcomeStatus.OPEN:
        return "reopened"
    return "changed"


def outcome_changes(
    *, user: Reader, since: dt.datetime, until: dt.datetime | None = None, coalition: Coalition | None = None,
    after: int | None = None, limit: int | None = None,
) -> list[OutcomeChange]:
    """Outcomes of the meetings `user` may see that changed between two moments, in outcome id order (`after`,
    `limit`: a page of them)."""
    until = until or timezone.now()
    touched = OutcomeEvent.objects.filter(outcome_visibility_q(user), pgh_created_at__gt=since,
                                          pgh_created_at__lte=until)
    if coalition is not None:
        touched = touched.filter(meeting__coalition_id=coalition.pk)

    def compute(ids: Any) -> list[OutcomeChange]:
        before = {row.id: row for row in state_as_of(OutcomeEvent, since).filter(id__in=ids)}
        now = {row.id: row for row in state_as_of(OutcomeEvent, until).filter(id__in=ids)}
        owners = dict(Country.objects.filter(
            pk__in={row.owner_id for row in (*before.values(), *now.values()) if row.owner_id}).values_list(
            "pk", "code"))
        found = []
        for outcome_id in sorted(before.keys() | now.keys()):
            old, new = before.get(outcome_id), now.get(outcome_id)
            if old is not None and new is not None and all(getattr(old, f) == getattr(new, f) for f in COMPARED):
                continue
            latest: Any = new or old
            found.append(OutcomeChange(
                outcome_id=outcome_id, kind=_kind(old, new), meeting=latest.meeting_id, outcome_kind=latest.kind,
                text=latest.text, owner=owners.get(latest.owner_id), due_on=latest.due_on,
                status_before=old.status if old else None, status_after=new.status if new else None,
                at=latest.pgh_created_at,
            ))
        return found

    return in_id_order(touched, compute, after, limit)

