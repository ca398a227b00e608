"""Named conditions: the secretariat names them and decides them (met or failed, on a day) or opens them again.

Kept as every record is (If-Match versions, history naming who acted); pledges.scenarios reads what they change.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.roles import Actor, Reader
from pledges.models import Coalition, Condition, ConditionStatus
from pledges.visibility import ensure_secretariat
from utilities.versioning import history_context, lock_for_write, refuse_unknown_fields, save_new_version

CONDITION_EDITABLE_FIELDS = frozenset({"name", "description", "status", "decided_on"})


def _decide(condition: Condition) -> None:
    """An open condition has no decision day; a met or failed one is decided today unless told when."""
    if condition.status == ConditionStatus.OPEN:
        condition.decided_on = None
    elif condition.decided_on is None:
        condition.decided_on = timezone.localdate()
    elif condition.decided_on > timezone.localdate():
        raise ValidationError({"decided_on": _("A condition cannot be decided on a future day.")})


@transaction.atomic
def condition_create(*, actor: Reader | Actor, coalition: Coalition, name: str, description: str = "",
                     status: str = ConditionStatus.OPEN, decided_on: dt.date | None = None,
                     system: bool = False) -> Condition:
    """Name a condition of the coalition (the secretariat keeps them)."""
    if not system:
        ensure_secretariat(actor)
    condition = Condition(coalition=coalition, name=name.strip(), description=description, status=status,
                          decided_on=decided_on)
    _decide(condition)
    condition.full_clean()
    with history_context(actor, "condition_create"):
        condition.save()
    return condition


@transaction.atomic
def condition_update(*, actor: Reader | Actor, condition: Condition, expected_version: int | None = None,
                     system: bool = False, **changes: Any) -> Condition:
    """Rename, describe or decide a condition: met or failed (on `decided_on`, default today), or open again."""
    refuse_unknown_fields(changes, CONDITION_EDITABLE_FIELDS)
    locked = lock_for_write(Condition.objects, condition.pk, expected_version=expected_version,
                            may_change=None if system else lambda _row: ensure_secretariat(actor))
    if "name" in changes:
        changes["name"] = changes["name"].strip()
    if changes.get("status", locked.status) != locked.status and "decided_on" not in changes:
        changes["decided_on"] = None  # deciding anew: today, unless told
    before = {field: getattr(locked, field) for field in CONDITION_EDITABLE_FIELDS}
    for field, value in changes.items():
        setattr(locked, field, value)
    _decide(locked)
    if all(getattr(locked, field) == value for field, value in before.items()):
        return locked
    locked.full_clean()
    save_new_version(locked, actor=actor, action="condition_update")
    return locked
