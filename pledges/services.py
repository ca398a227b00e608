"""Every write to pledges, caveats and requirements.

Each service is keyword-only, runs in one transaction, checks who may act
(pledges.visibility), validates, and records who acted in the history context.
Status moves are decided in one table, ALLOWED_TRANSITIONS. The checks of the pledge
and caveat writes are in pledges.checks, which the bulk write of an import (pledges.bulk)
runs too.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.roles import Actor, Reader
from places.models import Place
from pledges.checks import (
    ALLOWED_TRANSITIONS,
    RECONFIRMING_STATUSES,
    caveat_new,
    own_country,
    pledge_changes,
    pledge_move,
    pledge_new,
    tranche_total,
    transition_error,
    validate_category_unit,
    validate_condition,
)

# Named conditions' writes live in pledges.conditions; every write of pledges is reached as services.*.
from pledges.conditions import CONDITION_EDITABLE_FIELDS, condition_create, condition_update  # noqa: F401
from pledges.models import (
    OFFERED,
    CapabilityCategory,
    Caveat,
    CaveatKind,
    Coalition,
    Condition,
    Country,
    Delivery,
    Pledge,
    PledgeStatus,
    Releasability,
    Requirement,
    Unit,
)
from pledges.visibility import ensure_may_change_country, ensure_secretariat
from utilities.versioning import (
    apply_changes,
    check_version,
    history_context,
    lock_for_write,
    refuse_unknown_fields,
    save_new_version,
)

S = PledgeStatus
PLEDGE_EDITABLE_FIELDS = frozenset({
    "category", "unit", "quantity", "description", "available_from", "available_until",
    "notice_to_move_days", "location", "place", "estimated_value_eur", "releasability", "is_illustrative",
    "relieves",
})
CAVEAT_EDITABLE_FIELDS = frozenset({"kind", "text", "rationale", "releasability", "condition"})
DELIVERY_EDITABLE_FIELDS = frozenset({"quantity", "planned_on", "delivered_on", "note"})
# Tranches are dated within these years; outside them is a typo.
DELIVERY_FIRST_YEAR, DELIVERY_LAST_YEAR = 1990, 2100


@transaction.atomic
def pledge_create(
    *,
    actor: Reader | Actor,
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
    place: Place | None = None,
    estimated_value_eur: Decimal | None = None,
    releasability: str = Releasability.SECRETARIAT,
    status: str = S.DRAFT,
    is_illustrative: bool = False,
    relieves: Pledge | None = None,
    system: bool = False,
) -> Pledge:
    """Create a pledge for the actor's own country, as a draft or offered straight away (indicative).

    `system=True` (seed data, imports run by an administrator) skips the role check. The checks are
    pledges.checks.pledge_new's.
    """
    pledge = pledge_new(
        actor=actor, coalition=coalition, category=category, unit=unit, quantity=quantity, country=country,
        description=description, available_from=available_from, available_until=available_until,
        notice_to_move_days=notice_to_move_days, location=location, place=place,
        estimated_value_eur=estimated_value_eur, releasability=releasability, status=status,
        is_illustrative=is_illustrative, relieves=relieves, system=system,
    )
    with history_context(actor, "pledge_create"):
        pledge.save()
    pledge.refresh_from_db(fields=["created_at", "updated_at"])
    return pledge


@transaction.atomic
def pledge_update(
    *, actor: Reader | Actor, pledge: Pledge, expected_version: int | None = None, system: bool = False, **changes: Any
) -> Pledge:
    """Change a pledge's editable fields; status moves go through pledge_transition."""
    refuse_unknown_fields(changes, PLEDGE_EDITABLE_FIELDS)
    locked = lock_for_write(Pledge.objects, pledge.pk, expected_version=expected_version,
                            may_change=own_country(actor, system=system))
    if not pledge_changes(actor, locked, changes, system=system):
        return locked
    save_new_version(locked, actor=actor, action="pledge_update")
    return locked


@transaction.atomic
def pledge_transition(
    *, actor: Reader | Actor, pledge: Pledge, to_status: str, expected_version: int | None = None, system: bool = False
) -> Pledge:
    """Move a pledge along draft -> indicative -> confirmed -> deployed, or withdraw it.

    The row is locked first, so of two concurrent moves one wins and the other
    sees the new status and gets a clear error.
    """
    locked = lock_for_write(Pledge.objects, pledge.pk, expected_version=expected_version,
                            may_change=own_country(actor, system=system))
    pledge_move(locked, to_status)
    save_new_version(locked, actor=actor, action=f"pledge_{to_status}",
                     stamp=["reconfirmed_at"] if to_status in RECONFIRMING_STATUSES else [],
                     update_fields=["status", "version", "updated_at", "reconfirmed_at"])
    return locked


@transaction.atomic
def pledge_reconfirm(
    *, actor: Reader | Actor, pledge: Pledge, expected_version: int | None = None, at: dt.datetime | None = None,
    system: bool = False,
) -> Pledge:
    """The country says its offer still stands: `reconfirmed_at` is now, and the pledge is no longer stale.

    `at` (a past moment) only for `system` writers: the demo loader dates its stale examples.
    """
    if not system:
        at = None
    locked = lock_for_write(Pledge.objects, pledge.pk, expected_version=expected_version,
                            may_change=own_country(actor, system=system))
    if not locked.is_offered:
        raise ValidationError({"status": _("Only an offered pledge is reconfirmed; this one is %(status)s.") % {
            "status": locked.status}})
    locked.reconfirmed_at = at or timezone.now()
    save_new_version(locked, actor=actor, action="pledge_reconfirm",
                     update_fields=["reconfirmed_at", "version", "updated_at"])
    return locked


@transaction.atomic
def pledge_delete(*, actor: Reader | Actor, pledge: Pledge, expected_version: int | None = None) -> None:
    """Only a draft may be deleted; an offered pledge is withdrawn instead, so nothing offered is lost."""
    locked = lock_for_write(Pledge.objects, pledge.pk, expected_version=expected_version,
                            may_change=own_country(actor))
    if locked.status != S.DRAFT:
        raise ValidationError({"status": _("Only a draft can be deleted; withdraw an offered pledge instead.")})
    with history_context(actor, "pledge_delete"):
        locked.caveats.all().delete()
        locked.delete()


@transaction.atomic
def caveat_add(
    *,
    actor: Reader | Actor,
    kind: str,
    text: str,
    coalition: Coalition | None = None,
    pledge: Pledge | None = None,
    country: Country | None = None,
    rationale: str = "",
    releasability: str | None = None,
    imposed_on: dt.date | None = None,
    condition: Condition | None = None,
    system: bool = False,
) -> Caveat:
    """Attach a caveat to one pledge, or (no pledge) to all of a country's pledges to a coalition.

    A pledge's caveat is released as far as its pledge unless `releasability` says otherwise. The checks are
    pledges.checks.caveat_new's.
    """
    if pledge is not None:
        # a concurrent withdrawal or deletion waits for us, or we for it
        pledge = lock_for_write(Pledge.objects, pledge.pk, expected_version=None)
    caveat = caveat_new(actor=actor, kind=kind, text=text, coalition=coalition, pledge=pledge, country=country,
                        rationale=rationale, releasability=releasability, imposed_on=imposed_on, condition=condition,
                        system=system)
    with history_context(actor, "caveat_add"):
        caveat.save()
    return caveat


@transaction.atomic
def caveat_update(
    *, actor: Reader | Actor, caveat: Caveat, expected_version: int | None = None, system: bool = False, **changes: Any
) -> Caveat:
    refuse_unknown_fields(changes, CAVEAT_EDITABLE_FIELDS)
    locked = lock_for_write(Caveat.objects, caveat.pk, expected_version=expected_version,
                            may_change=own_country(actor, system=system))
    if not apply_changes(locked, changes, strip=["text"]):
        return locked
    validate_condition(locked)
    locked.full_clean()
    save_new_version(locked, actor=actor, action="caveat_update")
    return locked


@transaction.atomic
def caveat_lift(
    *, actor: Reader | Actor, caveat: Caveat, lifted_on: dt.date | None = None, expected_version: int | None = None,
    system: bool = False,
) -> Caveat:
    locked = lock_for_write(Caveat.objects, caveat.pk, expected_version=expected_version,
                            may_change=own_country(actor, system=system))
    if not locked.is_active:
        raise ValidationError(
            {"is_active": _("This caveat was already lifted on %(day)s.") % {"day": locked.lifted_on}})
    if lifted_on is not None and lifted_on > timezone.localdate():
        raise ValidationError({"lifted_on": _("A caveat cannot be lifted on a date still to come.")})
    locked.is_active = False
    locked.lifted_on = lifted_on or timezone.localdate()
    locked.full_clean()
    save_new_version(locked, actor=actor, action="caveat_lift")
    return locked


# --- deliveries (tranches) -----------------------------------------------------------------------


def _check_tranche(pledge: Pledge, delivery: Delivery) -> None:
    """The rules a tranche obeys, with its pledge locked: field errors named as the API and the admin show them."""
    if pledge.status not in OFFERED:
        raise ValidationError({"pledge": _("Tranches are for offered pledges; this one is %(status)s.") % {
            "status": pledge.status}})
    errors: dict[str, str] = {}
    for field in ("planned_on", "delivered_on"):
        day = getattr(delivery, field)
        if day is not None and not DELIVERY_FIRST_YEAR <= day.year <= DELIVERY_LAST_YEAR:
            errors[field] = _("Give a date between the years %(first)s and %(last)s.") % {
                "first": DELIVERY_FIRST_YEAR, "last": DELIVERY_LAST_YEAR}
    if delivery.delivered_on is not None and delivery.delivered_on > timezone.localdate():
        errors["delivered_on"] = _("A tranche cannot have been delivered on a day still to come.")
    if errors:
        raise ValidationError(errors)
    delivery.full_clean(exclude=["pledge"])
    others = tranche_total(pledge, leaving_out=delivery.pk)
    if others + delivery.quantity > pledge.quantity:
        room = max(pledge.quantity - others, 0)
        raise ValidationError({"quantity": _(
            "The pledge is %(quantity)s %(unit)s; its other tranches add up to %(others)s, so this one can be at "
            "most %(room)s.") % {"quantity": f"{pledge.quantity:,}", "unit": pledge.unit.code,
                                 "others": f"{others:,}", "room": f"{room:,}"}})


@transaction.atomic
def delivery_plan(
    *, actor: Reader | Actor, pledge: Pledge, quantity: int, planned_on: dt.date, delivered_on: dt.date | None = None,
    note: str = "", system: bool = False,
) -> Delivery:
    """A new tranche of one of the actor's country's offered pledges: planned, or already delivered."""
    locked: Pledge = Pledge.objects.select_for_update(of=("self",)).select_related("unit").get(pk=pledge.pk)
    if not system:
        ensure_may_change_country(actor, locked.country_id)
    delivery = Delivery(pledge=locked, quantity=quantity, planned_on=planned_on, delivered_on=delivered_on,
                        note=note.strip())
    _check_tranche(locked, delivery)
    with history_context(actor, "delivery_plan" if delivered_on is None else "delivery_record"):
        delivery.save()
    delivery.refresh_from_db(fields=["created_at", "updated_at"])
    return delivery


def _lock_delivery(delivery: Delivery, *, actor: Reader | Actor, expected_version: int | None,
                   system: bool = False) -> tuple[Delivery, Pledge]:
    """The pledge first, then the tranche: every tranche write of one pledge takes its locks in this order. The
    actor must be ministry staff of the pledge's country (a system writer is not asked)."""
    pledge = Pledge.objects.select_for_update(of=("self",)).select_related("unit").get(pk=delivery.pledge_id)
    may_change = own_country(actor, system=system)
    locked = lock_for_write(Delivery.objects, delivery.pk, expected_version=expected_version,
                            may_change=None if may_change is None else lambda _tranche: may_change(pledge))
    return locked, pledge


@transaction.atomic
def delivery_record(
    *, actor: Reader | Actor, delivery: Delivery, delivered_on: dt.date | None = None,
    expected_version: int | None = None, system: bool = False,
) -> Delivery:
    """A planned tranche arrived, on `delivered_on` (default today)."""
    locked, pledge = _lock_delivery(delivery, actor=actor, expected_version=expected_version, system=system)
    if locked.delivered_on is not None:
        raise ValidationError({"delivered_on": _("This tranche was already delivered on %(day)s.") % {
            "day": locked.delivered_on}})
    locked.delivered_on = delivered_on or timezone.localdate()
    _check_tranche(pledge, locked)
    save_new_version(locked, actor=actor, action="delivery_record")
    return locked


@transaction.atomic
def delivery_update(
    *, actor: Reader | Actor, delivery: Delivery, expected_version: int | None = None, system: bool = False,
    **changes: Any,
) -> Delivery:
    """Change a tranche's quantity, dates or note (setting `delivered_on` records it delivered)."""
    refuse_unknown_fields(changes, DELIVERY_EDITABLE_FIELDS)
    locked, pledge = _lock_delivery(delivery, actor=actor, expected_version=expected_version, system=system)
    if not apply_changes(locked, changes, strip=["note"]):
        return locked
    _check_tranche(pledge, locked)
    save_new_version(locked, actor=actor, action="delivery_update")
    return locked


@transaction.atomic
def delivery_delete(*, actor: Reader | Actor, delivery: Delivery, expected_version: int | None = None) -> None:
    """Remove a tranche entered by mistake (its history stays)."""
    locked, pledge = _lock_delivery(delivery, actor=actor, expected_version=expected_version)
    if pledge.status not in OFFERED:
        raise ValidationError({"pledge": _("The pledge is %(status)s; its tranches are kept as they are.") % {
            "status": pledge.status}})
    with history_context(actor, "delivery_delete"):
        locked.delete()


# --- requirements ----------------------------------------------------------------------------------


def requirement_set(
    *,
    actor: Reader | Actor,
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
    actor: Reader | Actor,
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
    validate_category_unit(category, unit)
    Coalition.objects.select_for_update().only("pk").get(pk=coalition.pk)
    existing = (
        Requirement.objects.select_for_update(of=("self",)).filter(coalition=coalition, category=category, unit=unit)
        .order_by().first()
    )
    if existing is None:
        requirement = Requirement(coalition=coalition, category=category, unit=unit, quantity=quantity, notes=notes)
        requirement.full_clean()
        with history_context(actor, "requirement_set"):
            requirement.save()
        return requirement, True
    check_version(existing, expected_version)
    if not apply_changes(existing, {"quantity": quantity, "notes": notes}):
        return existing, False
    existing.full_clean()
    save_new_version(existing, actor=actor, action="requirement_set")
    return existing, False


@transaction.atomic
def requirement_delete(*, actor: Reader | Actor, requirement: Requirement, expected_version: int | None = None) -> None:
    ensure_secretariat(actor)
    locked = lock_for_write(Requirement.objects, requirement.pk, expected_version=expected_version)
    with history_context(actor, "requirement_delete"):
        locked.delete()


__all__ = [
    "ALLOWED_TRANSITIONS", "CaveatKind", "PermissionDenied", "caveat_add", "caveat_lift",
    "caveat_update", "delivery_delete", "delivery_plan", "delivery_record", "delivery_update", "pledge_create",
    "pledge_delete", "pledge_reconfirm", "pledge_transition", "pledge_update", "requirement_delete",
    "requirement_set", "transition_error",
]
