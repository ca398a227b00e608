"""Every write to pledges, caveats and requirements.

Each service is keyword-only, runs in one transaction, checks who may act
(pledges.visibility), validates, and records who acted in the history context.
Status moves are decided in one table, ALLOWED_TRANSITIONS.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pghistory
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from pledges.models import (
    CapabilityCategory,
    CategoryUnit,
    Caveat,
    CaveatKind,
    Coalition,
    Country,
    Membership,
    Pledge,
    PledgeStatus,
    Releasability,
    Requirement,
    Unit,
)
from pledges.visibility import ensure_may_change_country, ensure_secretariat

S = PledgeStatus
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.INDICATIVE}),
    S.INDICATIVE: frozenset({S.CONFIRMED, S.WITHDRAWN}),
    S.CONFIRMED: frozenset({S.DEPLOYED, S.WITHDRAWN}),
    S.DEPLOYED: frozenset({S.WITHDRAWN}),
    S.WITHDRAWN: frozenset(),
}
INITIAL_STATUSES = frozenset({S.DRAFT, S.INDICATIVE})
CAVEAT_IMPOSED_AHEAD = dt.timedelta(days=366)

PLEDGE_EDITABLE_FIELDS = frozenset({
    "category", "unit", "quantity", "description", "available_from", "available_until",
    "notice_to_move_days", "location", "estimated_value_eur", "releasability", "is_illustrative",
})
CAVEAT_EDITABLE_FIELDS = frozenset({"kind", "text", "rationale", "releasability"})


class StaleVersion(Exception):
    """The object changed since the client read it (a failed If-Match)."""

    def __init__(self, current_version: int) -> None:
        super().__init__(f"The object has changed since it was read (now version {current_version}).")
        self.current_version = current_version


@dataclass(frozen=True)
class SystemActor:
    """A named actor that is not a person: the demo loader, the scheduler, a command. History names it."""

    username: str
    pk: None = None


SYSTEM = SystemActor("system")


def history_context(actor: Any, action: str) -> pghistory.context:
    """Who acted, and how, on the history rows the triggers write in this block. Every write to a tracked
    model happens inside one (or inside a request, which HistoryMiddleware gives one): the database refuses
    history rows that name no one."""
    actor = actor or SYSTEM
    return pghistory.context(user=getattr(actor, "pk", None), username=getattr(actor, "username", "system"),
                             action=action)


def check_version(obj: Any, expected_version: int | None) -> None:
    if expected_version is not None and obj.version != expected_version:
        raise StaleVersion(obj.version)


def transition_error(current: str, target: str) -> str | None:
    """Why `current` -> `target` is illegal, or None when it is allowed."""
    if target not in S.values:
        return f"'{target}' is not a status; choose one of {', '.join(S.values)}."
    if target == current:
        return f"The pledge is already {current}."
    if target not in ALLOWED_TRANSITIONS[current]:
        allowed = sorted(ALLOWED_TRANSITIONS[current])
        hint = f" From {current} it can go to: {', '.join(allowed)}." if allowed else f" A {current} pledge is final."
        return f"A pledge cannot move from {current} to {target}.{hint}"
    return None


def _validate_category_unit(category: CapabilityCategory, unit: Unit, field: str = "unit") -> None:
    if not CategoryUnit.objects.filter(category=category, unit=unit).exists():
        allowed = ", ".join(category.units.values_list("code", flat=True)) or "none defined"
        raise ValidationError({field: f"'{unit.code}' is not a unit of {category.code} (allowed: {allowed})."})


def _validate_membership(country: Country, coalition: Coalition) -> None:
    if not Membership.objects.filter(country=country, coalition=coalition).exists():
        raise ValidationError({"coalition": f"{country.name} is not a member of {coalition}."})


def _lock(model: type[Any], pk: int) -> Any:
    return model.objects.select_for_update().get(pk=pk)


@transaction.atomic
def pledge_create(
    *,
    actor: Any,
    coalition: Coalition,
    category: CapabilityCategory,
    unit: Unit,
    quantity: int,
    country: Country | None = None,
    description: str = "",
    available_from: dt.date | None = None,
    available_until: dt.date | None = None,
    notice_to_move_days: int | None = None,
    location: str = "",
    estimated_value_eur: Decimal | None = None,
    releasability: str = Releasability.SECRETARIAT,
    status: str = S.DRAFT,
    is_illustrative: bool = False,
    system: bool = False,
) -> Pledge:
    """Create a pledge for the actor's own country, as a draft or offered straight away (indicative).

    `system=True` (seed data, imports run by an administrator) skips the role check.
    """
    if country is None:
        country = getattr(actor, "country", None)
    if country is None:
        raise ValidationError({"country": "A pledge needs a country."})
    if not system:
        ensure_may_change_country(actor, country.pk)
    if status not in INITIAL_STATUSES:
        raise ValidationError({"status": "A new pledge starts as draft or indicative."})
    pledge = Pledge(
        country=country, coalition=coalition, category=category, unit=unit, quantity=quantity,
        description=description, available_from=available_from, available_until=available_until,
        notice_to_move_days=notice_to_move_days, location=location, estimated_value_eur=estimated_value_eur,
        releasability=releasability, status=status, is_illustrative=is_illustrative,
    )
    pledge.full_clean()
    _validate_membership(country, coalition)
    _validate_category_unit(category, unit)
    with history_context(actor, "pledge_create"):
        pledge.save()
    pledge.refresh_from_db(fields=["created_at", "updated_at"])
    return pledge


@transaction.atomic
def pledge_update(
    *, actor: Any, pledge: Pledge, expected_version: int | None = None, system: bool = False, **changes: Any
) -> Pledge:
    """Change a pledge's editable fields; status moves go through pledge_transition."""
    unknown = set(changes) - PLEDGE_EDITABLE_FIELDS
    if unknown:
        raise ValidationError({field: "This field cannot be changed here." for field in sorted(unknown)})
    locked: Pledge = _lock(Pledge, pledge.pk)
    if not system:
        ensure_may_change_country(actor, locked.country_id)
    check_version(locked, expected_version)
    if locked.status == S.WITHDRAWN:
        raise ValidationError({"status": "A withdrawn pledge cannot be changed."})
    changed = {k: v for k, v in changes.items() if getattr(locked, k) != v}
    if not changed:
        return locked
    for field, value in changed.items():
        setattr(locked, field, value)
    locked.full_clean()
    if {"category", "unit"} & set(changed):
        _validate_category_unit(locked.category, locked.unit)
    locked.version += 1
    locked.updated_at = timezone.now()
    with history_context(actor, "pledge_update"):
        locked.save()
    return locked


@transaction.atomic
def pledge_transition(
    *, actor: Any, pledge: Pledge, to_status: str, expected_version: int | None = None, system: bool = False
) -> Pledge:
    """Move a pledge along draft -> indicative -> confirmed -> deployed, or withdraw it.

    The row is locked first, so of two concurrent moves one wins and the other
    sees the new status and gets a clear error.
    """
    locked: Pledge = _lock(Pledge, pledge.pk)
    if not system:
        ensure_may_change_country(actor, locked.country_id)
    check_version(locked, expected_version)
    error = transition_error(locked.status, to_status)
    if error:
        raise ValidationError({"status": error})
    locked.status = to_status
    locked.version += 1
    locked.updated_at = timezone.now()
    with history_context(actor, f"pledge_{to_status}"):
        locked.save(update_fields=["status", "version", "updated_at"])
    return locked


@transaction.atomic
def pledge_delete(*, actor: Any, pledge: Pledge, expected_version: int | None = None) -> None:
    """Only a draft may be deleted; an offered pledge is withdrawn instead, so nothing offered is lost."""
    locked: Pledge = _lock(Pledge, pledge.pk)
    ensure_may_change_country(actor, locked.country_id)
    check_version(locked, expected_version)
    if locked.status != S.DRAFT:
        raise ValidationError({"status": "Only a draft can be deleted; withdraw an offered pledge instead."})
    with history_context(actor, "pledge_delete"):
        locked.caveats.all().delete()
        locked.delete()


@transaction.atomic
def caveat_add(
    *,
    actor: Any,
    kind: str,
    text: str,
    coalition: Coalition | None = None,
    pledge: Pledge | None = None,
    country: Country | None = None,
    rationale: str = "",
    releasability: str | None = None,
    imposed_on: dt.date | None = None,
    system: bool = False,
) -> Caveat:
    """Attach a caveat to one pledge, or (no pledge) to all of a country's pledges to a coalition.

    A pledge's caveat is released as far as its pledge unless `releasability` says otherwise.
    """
    if pledge is not None:
        pledge = _lock(Pledge, pledge.pk)  # a concurrent withdrawal or deletion waits for us, or we for it
        country, coalition = pledge.country, pledge.coalition
        releasability = releasability or pledge.releasability
    if country is None:
        country = getattr(actor, "country", None)
    if country is None:
        raise ValidationError({"country": "A caveat needs a country."})
    if coalition is None:
        raise ValidationError({"coalition": "A caveat needs a coalition or a pledge."})
    if not system:
        ensure_may_change_country(actor, country.pk)
    if pledge is not None and pledge.status == S.WITHDRAWN:
        raise ValidationError({"pledge": "A withdrawn pledge takes no new caveats."})
    if imposed_on is not None and imposed_on > timezone.localdate() + CAVEAT_IMPOSED_AHEAD:
        raise ValidationError({"imposed_on": "A caveat cannot be imposed more than a year ahead."})
    caveat = Caveat(
        country=country, coalition=coalition, pledge=pledge, kind=kind, text=text.strip(), rationale=rationale,
        releasability=releasability or Releasability.SECRETARIAT, imposed_on=imposed_on or timezone.localdate(),
    )
    caveat.full_clean()
    _validate_membership(country, coalition)
    with history_context(actor, "caveat_add"):
        caveat.save()
    return caveat


@transaction.atomic
def caveat_update(
    *, actor: Any, caveat: Caveat, expected_version: int | None = None, system: bool = False, **changes: Any
) -> Caveat:
    unknown = set(changes) - CAVEAT_EDITABLE_FIELDS
    if unknown:
        raise ValidationError({field: "This field cannot be changed here." for field in sorted(unknown)})
    locked: Caveat = _lock(Caveat, caveat.pk)
    if not system:
        ensure_may_change_country(actor, locked.country_id)
    check_version(locked, expected_version)
    changed = {k: v for k, v in changes.items() if getattr(locked, k) != v}
    if not changed:
        return locked
    for field, value in changed.items():
        setattr(locked, field, value.strip() if field == "text" else value)
    locked.full_clean()
    locked.version += 1
    locked.updated_at = timezone.now()
    with history_context(actor, "caveat_update"):
        locked.save()
    return locked


@transaction.atomic
def caveat_lift(
    *, actor: Any, caveat: Caveat, lifted_on: dt.date | None = None, expected_version: int | None = None,
    system: bool = False,
) -> Caveat:
    locked: Caveat = _lock(Caveat, caveat.pk)
    if not system:
        ensure_may_change_country(actor, locked.country_id)
    check_version(locked, expected_version)
    if not locked.is_active:
        raise ValidationError({"is_active": f"This caveat was already lifted on {locked.lifted_on}."})
    if lifted_on is not None and lifted_on > timezone.localdate():
        raise ValidationError({"lifted_on": "A caveat cannot be lifted on a date still to come."})
    locked.is_active = False
    locked.lifted_on = lifted_on or timezone.localdate()
    locked.version += 1
    locked.updated_at = timezone.now()
    locked.full_clean()
    with history_context(actor, "caveat_lift"):
        locked.save()
    return locked


def requirement_set(
    *,
    actor: Any,
    coalition: Coalition,
    category: CapabilityCategory,
    unit: Unit,
    quantity: int,
    notes: str = "",
    expected_version: int | None = None,
    system: bool = False,
) -> Requirement:
    """Create or change the coalition's requirement for a category in a unit."""
    requirement, _created = requirement_set_with_created(
        actor=actor, coalition=coalition, category=category, unit=unit, quantity=quantity, notes=notes,
        expected_version=expected_version, system=system,
    )
    return requirement


@transaction.atomic
def requirement_set_with_created(
    *,
    actor: Any,
    coalition: Coalition,
    category: CapabilityCategory,
    unit: Unit,
    quantity: int,
    notes: str = "",
    expected_version: int | None = None,
    system: bool = False,
) -> tuple[Requirement, bool]:
    """requirement_set, also telling whether the requirement is new.

    The coalition row is locked first: a row lock on a requirement that does not exist yet locks nothing,
    so two concurrent first settings would both insert and one would hit requirement_unique_per_unit.
    """
    if not system:
        ensure_secretariat(actor)
    _validate_category_unit(category, unit)
    Coalition.objects.select_for_update().only("pk").get(pk=coalition.pk)
    existing = (
        Requirement.objects.select_for_update(of=("self",)).filter(coalition=coalition, category=category, unit=unit)
        .order_by().first()
    )
    if existing is None:
        requirement = Requirement(coalition=coalition, category=category, unit=unit, quantity=quantity, notes=notes)
    else:
        check_version(existing, expected_version)
        if existing.quantity == quantity and existing.notes == notes:
            return existing, False
        requirement = existing
        requirement.quantity, requirement.notes = quantity, notes
        requirement.version += 1
        requirement.updated_at = timezone.now()
    requirement.full_clean()
    with history_context(actor, "requirement_set"):
        requirement.save()
    return requirement, existing is None


@transaction.atomic
def requirement_delete(*, actor: Any, requirement: Requirement, expected_version: int | None = None) -> None:
    ensure_secretariat(actor)
    locked: Requirement = _lock(Requirement, requirement.pk)
    check_version(locked, expected_version)
    with history_context(actor, "requirement_delete"):
        locked.delete()


__all__ = [
    "ALLOWED_TRANSITIONS", "CaveatKind", "PermissionDenied", "StaleVersion", "caveat_add", "caveat_lift",
    "caveat_update", "pledge_create", "pledge_delete", "pledge_transition", "pledge_update", "requirement_delete",
    "requirement_set", "transition_error",
]
