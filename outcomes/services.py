"""The writes to a meeting's outcomes: the secretariat records and edits them; an action's owner country closes it.

- `outcome_record`: the secretariat records a decision (as said) or an action (owner, due day; open unless told).
- `outcome_update`: the secretariat changes any field; the owner country's ministry staff change only the
  status of their own action (done, or open again after their own mark) and its note. A field a writer may not
  change is refused by name (a 400), a writer who may not change the outcome at all with a 403.
Each write is kept as every record is (If-Match versions, history naming who acted). `closed_on` follows the
status: the day it was done or dropped, empty once open again.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.roles import Actor, Reader, is_ministry, is_secretariat
from meetings.models import Meeting
from outcomes.models import ACTION_STATUSES, CLOSED_STATUSES, Outcome, OutcomeKind, OutcomeStatus
from outcomes.notices import action_recorded_notify
from pledges.models import Country, Membership
from pledges.visibility import ensure_secretariat
from utilities.versioning import history_context, lock_for_write, refuse_unknown_fields, save_new_version

OUTCOME_EDITABLE_FIELDS = frozenset({"kind", "text", "owner", "due_on", "status", "note"})
# What the owner country's ministry staff may change on their own action, and the statuses they may set.
OWNER_EDITABLE_FIELDS = frozenset({"status", "note"})
OWNER_STATUSES = frozenset({OutcomeStatus.OPEN, OutcomeStatus.DONE})


def _check(outcome: Outcome) -> None:
    """The rules of a kind, in words naming the field (the database keeps them too), and `closed_on`."""
    errors: dict[str, str] = {}
    if outcome.kind == OutcomeKind.DECISION:
        if outcome.owner_id is not None:
            errors["owner"] = _("A decision has no owner; record an action for what a country must do.")
        if outcome.due_on is not None:
            errors["due_on"] = _("A decision has no due day; record an action for what is due.")
        if outcome.status != OutcomeStatus.RECORDED:
            errors["status"] = _("A decision is recorded as said; only actions are open, done or dropped.")
    else:
        if outcome.due_on is None:
            errors["due_on"] = _("An action needs the day it is due.")
        if outcome.status not in ACTION_STATUSES:
            errors["status"] = _("An action is open, done or dropped.")
        if outcome.owner_id is not None and not Membership.objects.filter(
                coalition_id=outcome.meeting.coalition_id, country_id=outcome.owner_id).exists():
            errors["owner"] = _("The owner must be a member of the meeting's coalition (or none: the secretariat).")
    if errors:
        raise ValidationError(errors)
    if outcome.status in CLOSED_STATUSES:
        outcome.closed_on = outcome.closed_on or timezone.localdate()
    else:
        outcome.closed_on = None


@transaction.atomic
def outcome_record(*, actor: Reader | Actor, meeting: Meeting, kind: str, text: str, owner: Country | None = None,
                   due_on: dt.date | None = None, status: str | None = None, note: str = "",
                   closed_on: dt.date | None = None, system: bool = False) -> Outcome:
    """Record what a meeting decided, or an action (open unless told) with its owner and due day; one recorded
    done or dropped was closed `closed_on` (default today)."""
    if not system:
        ensure_secretariat(actor)
    if status is None:
        status = OutcomeStatus.RECORDED if kind == OutcomeKind.DECISION else OutcomeStatus.OPEN
    outcome = Outcome(meeting=meeting, kind=kind, text=text.strip(), owner=owner, due_on=due_on, status=status,
                      note=note.strip(), closed_on=closed_on)
    _check(outcome)
    outcome.full_clean()
    with history_context(actor, "outcome_record"):
        outcome.save()
    if outcome.kind == OutcomeKind.ACTION and outcome.owner_id is not None and not system:
        # The owner country's staff hear of it once the recording has committed (a demo load tells no one).
        transaction.on_commit(functools.partial(action_recorded_notify, outcome_id=outcome.pk))
    return outcome


def _may_change(actor: Reader | Actor, outcome: Outcome) -> None:
    """The secretariat changes any outcome; ministry staff only their own country's actions."""
    if is_secretariat(actor):
        return
    if is_ministry(actor) and outcome.kind == OutcomeKind.ACTION and outcome.owner_id == actor.country_id:
        return
    raise PermissionDenied(_("Only the secretariat, or the staff of the country that owns the action, may change "
                             "it."))


@transaction.atomic
def outcome_update(*, actor: Reader | Actor, outcome: Outcome, expected_version: int | None = None,
                   system: bool = False, **changes: Any) -> Outcome:
    """Change an outcome. The owner country's staff: the status (done, or open again) and the note of their own
    action, nothing else. A change of kind takes the new kind's defaults for what is not given (a decision:
    recorded, no owner, no due day; an action: open)."""
    refuse_unknown_fields(changes, OUTCOME_EDITABLE_FIELDS)
    locked = lock_for_write(Outcome.objects, outcome.pk, expected_version=expected_version,
                            may_change=None if system else lambda row: _may_change(actor, row))
    for name in ("text", "note"):
        if isinstance(changes.get(name), str):
            changes[name] = changes[name].strip()
    if "owner" in changes:
        changes["owner_id"] = changes.pop("owner").pk if changes["owner"] is not None else None
    changes = {name: value for name, value in changes.items() if getattr(locked, name) != value}
    if not system and not is_secretariat(actor):
        refused = sorted(set(changes) - OWNER_EDITABLE_FIELDS)
        if refused:
            raise ValidationError({name.removesuffix("_id"): _("Only the secretariat changes this.")
                                   for name in refused})
        if "status" in changes and (changes["status"] not in OWNER_STATUSES or locked.status not in OWNER_STATUSES):
            raise ValidationError({"status": _("You may mark your action done, or open again; only the secretariat "
                                               "drops an action or opens a dropped one.")})
    if changes.get("kind", locked.kind) != locked.kind:
        defaults: dict[str, Any] = ({"status": OutcomeStatus.RECORDED, "owner_id": None, "due_on": None}
                                    if changes["kind"] == OutcomeKind.DECISION else {"status": OutcomeStatus.OPEN})
        changes = {**defaults, **changes}
    if changes.get("status", locked.status) != locked.status:
        locked.closed_on = None  # closed anew: today
    if not changes:
        return locked
    for name, value in changes.items():
        setattr(locked, name, value)
    _check(locked)
    locked.full_clean()
    save_new_version(locked, actor=actor, action="outcome_update")
    return locked
