"""What a write to pledges and caveats checks before it saves: each pledge service runs these (pledges.services),
and so does the bulk write of many rows (pledges.bulk), so that a rule is written once.

A check asks the database what it needs to know (is the country a member, is the unit one of the category's, does
the pledge have tranches). Many writes at once read it once instead, into `Known` (`known_for`), and pass it to
every check: the same rules, answered from memory. With `Known`, a model's `full_clean` leaves out what only the
database can answer row by row (the foreign keys to records read with `Known`, the unique and CHECK constraints,
which the database keeps on every write): a bulk write the database refuses is redone row by row by its caller.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.roles import Actor, Reader
from places.models import Place
from pledges.models import (
    OFFERED,
    CapabilityCategory,
    CategoryUnit,
    Caveat,
    CaveatKind,
    Coalition,
    Condition,
    Country,
    Delivery,
    Membership,
    Pledge,
    PledgeStatus,
    Releasability,
    Unit,
    latest_imposed_on,
)
from pledges.visibility import ensure_may_change_country, pledge_visibility_q
from utilities.versioning import SystemActor, apply_changes

S = PledgeStatus
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.INDICATIVE}),
    S.INDICATIVE: frozenset({S.CONFIRMED, S.WITHDRAWN}),
    S.CONFIRMED: frozenset({S.DEPLOYED, S.WITHDRAWN}),
    S.DEPLOYED: frozenset({S.WITHDRAWN}),
    S.WITHDRAWN: frozenset(),
}
INITIAL_STATUSES = frozenset({S.DRAFT, S.INDICATIVE})
RECONFIRMING_STATUSES = frozenset({S.INDICATIVE, S.CONFIRMED})  # offering or confirming reconfirms
RELIEVABLE_STATUSES = frozenset({*OFFERED, S.WITHDRAWN})


@dataclass
class Known:
    """What the checks of many writes would each ask the database, read once for all of them (known_for)."""

    records: set[tuple[type[models.Model], Any]]  # (model, pk) of rows read for the writes: they exist
    memberships: set[tuple[int, int]]  # (country id, coalition id)
    units_of: dict[int, list[Unit]]  # category id -> its units, as category.units lists them
    pledges: set[int] = field(default_factory=set)  # the pledges whose tranches and relievers were read
    tranches: dict[int, int] = field(default_factory=dict)  # of those, the ones with tranches -> their total
    relieved: set[int] = field(default_factory=set)  # of those, the ones another pledge relieves


def known_for(*, records: Iterable[models.Model | None], pledge_ids: Iterable[int] = ()) -> Known:
    """Read once what the checks of writes naming these records (countries, coalitions, categories, units,
    places, pledges read from the database) and changing these pledges ask."""
    pledge_ids = list(pledge_ids)
    units_of: dict[int, list[Unit]] = defaultdict(list)
    for category in CapabilityCategory.objects.prefetch_related("units"):
        units_of[category.pk] = list(category.units.all())
    tranches = {row["pledge_id"]: int(row["total"] or 0) for row in Delivery.objects.filter(
        pledge_id__in=pledge_ids).values("pledge_id").annotate(total=Sum("quantity")).order_by()}
    return Known(
        records={(type(record), record.pk) for record in records if record is not None and record.pk is not None},
        memberships=set(Membership.objects.values_list("country_id", "coalition_id")),
        units_of=dict(units_of), pledges=set(pledge_ids), tranches=tranches,
        relieved=set(Pledge.objects.filter(relieves_id__in=pledge_ids).values_list("relieves_id", flat=True)),
    )


def full_clean(obj: models.Model, known: Known | None) -> None:
    """obj.full_clean(). With `known`, the foreign keys to the records it holds are not asked again, and the unique
    and CHECK constraints are left to the database (the module's docstring)."""
    if known is None:
        obj.full_clean()
        return
    exclude = [f.name for f in obj._meta.concrete_fields
               if f.is_relation and (f.related_model, getattr(obj, f.attname)) in known.records]
    obj.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)


def transition_error(current: str, target: str) -> str | None:
    """Why `current` -> `target` is illegal, or None when it is allowed."""
    if target not in S.values:
        return _("'%(target)s' is not a status; choose one of %(statuses)s.") % {
            "target": target, "statuses": ", ".join(S.values)}
    if target == current:
        return _("The pledge is already %(status)s.") % {"status": current}
    if target not in ALLOWED_TRANSITIONS[current]:
        if allowed := sorted(ALLOWED_TRANSITIONS[current]):
            return _("A pledge cannot move from %(current)s to %(target)s. From %(current)s it can go to: "
                     "%(allowed)s.") % {"current": current, "target": target, "allowed": ", ".join(allowed)}
        return _("A pledge cannot move from %(current)s to %(target)s. A %(current)s pledge is final.") % {
            "current": current, "target": target}
    return None


def validate_category_unit(category: CapabilityCategory, unit: Unit, field: str = "unit", *,
                           known: Known | None = None) -> None:
    if known is not None:
        units = known.units_of.get(category.pk, [])
        counted, codes = any(u.pk == unit.pk for u in units), [u.code for u in units]
    else:
        counted = CategoryUnit.objects.filter(category=category, unit=unit).exists()
        codes = [] if counted else list(category.units.values_list("code", flat=True))
    if not counted:
        allowed = ", ".join(codes) or "none defined"
        raise ValidationError({field: _("'%(unit)s' is not a unit of %(category)s (allowed: %(allowed)s).") % {
            "unit": unit.code, "category": category.code, "allowed": allowed}})


def validate_membership(country: Country, coalition: Coalition, *, known: Known | None = None) -> None:
    member = (country.pk, coalition.pk) in known.memberships if known is not None else \
        Membership.objects.filter(country=country, coalition=coalition).exists()
    if not member:
        raise ValidationError({"coalition": _("%(country)s is not a member of %(coalition)s.") % {
            "country": country.name, "coalition": coalition}})


def validate_place(place: Place | None, coalition: Coalition) -> None:
    """A pledge is placed within its coalition's theatre (any country when the coalition names none)."""
    if place is not None and coalition.theatre and place.country_code not in coalition.theatre:
        raise ValidationError({"place": _("%(place)s is outside the theatre of %(coalition)s (%(countries)s).") % {
            "place": place, "coalition": coalition, "countries": ", ".join(coalition.theatre)}})


def validate_relieves(actor: Reader | Actor, pledge: Pledge, *, system: bool) -> None:
    """A rotation: the relieved pledge is one the writer sees, offered or withdrawn, of the same coalition,
    category and unit (the database's composite key holds the last three), and no chain comes back round."""
    if pledge.relieves_id is None:
        return
    # A system actor (the demo loader, an import run by an administrator) names any pledge; a person, those
    # they see.
    seen = Pledge.objects.all() if system or isinstance(actor, SystemActor) else \
        Pledge.objects.filter(pledge_visibility_q(actor))
    relieved = seen.filter(pk=pledge.relieves_id).first()
    if relieved is None or relieved.pk == pledge.pk:
        raise ValidationError({"relieves": _("No other pledge you may see has this id.")})
    if (relieved.coalition_id, relieved.category_id, relieved.unit_id) != (
            pledge.coalition_id, pledge.category_id, pledge.unit_id):
        raise ValidationError({"relieves": _("A pledge relieves one of the same coalition, category and unit.")})
    if relieved.status not in RELIEVABLE_STATUSES:
        raise ValidationError({"relieves": _("Only an offered or withdrawn pledge can be relieved.")})
    step, hops = relieved.relieves_id, 0
    while step is not None and hops < 1000:  # a rotation is a line, not a ring
        if step == pledge.pk:
            raise ValidationError({"relieves": _("That pledge already follows this one in the rotation.")})
        step, hops = Pledge.objects.filter(pk=step).values_list("relieves_id", flat=True).first(), hops + 1


def validate_condition(caveat: Caveat) -> None:
    if caveat.condition_id is None:
        return
    if caveat.kind != CaveatKind.CONDITION:
        raise ValidationError({"condition": _("Only a caveat of kind condition names a condition.")})
    if not Condition.objects.filter(pk=caveat.condition_id, coalition_id=caveat.coalition_id).exists():
        raise ValidationError({"condition": _("Name a condition of the caveat's own coalition.")})


def own_country(actor: Reader | Actor, *, system: bool = False) -> Callable[[Pledge | Caveat], None] | None:
    """lock_for_write's check of a pledge or caveat: the actor is ministry staff of its country. A system writer
    (seed data, an administrator's import) is not asked."""
    if system:
        return None
    return lambda row: ensure_may_change_country(actor, row.country_id)


def tranche_total(pledge: Pledge, *, leaving_out: int | None = None, known: Known | None = None) -> int:
    if known is not None and leaving_out is None and pledge.pk in known.pledges:
        return known.tranches.get(pledge.pk, 0)
    tranches = Delivery.objects.filter(pledge_id=pledge.pk)
    if leaving_out is not None:
        tranches = tranches.exclude(pk=leaving_out)
    return int(tranches.aggregate(total=Sum("quantity"))["total"] or 0)


# --- the checks of each write, in the order its service runs them -------------------------------------------


def pledge_new(
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
    known: Known | None = None,
) -> Pledge:
    """pledge_create's checks: the pledge it would save, unsaved (ValidationError or PermissionDenied if none)."""
    if country is None:
        country = getattr(actor, "country", None)
    if country is None:
        raise ValidationError({"country": _("A pledge needs a country.")})
    if not system:
        ensure_may_change_country(actor, country.pk)
    if status not in INITIAL_STATUSES:
        raise ValidationError({"status": _("A new pledge starts as draft or indicative.")})
    pledge = Pledge(
        country=country, coalition=coalition, category=category, unit=unit, quantity=quantity,
        description=description, available_from=available_from, available_until=available_until,
        notice_to_move_days=notice_to_move_days, location=location, place=place,
        estimated_value_eur=estimated_value_eur, releasability=releasability, status=status,
        is_illustrative=is_illustrative, relieves=relieves,
        reconfirmed_at=timezone.now() if status != S.DRAFT else None,
    )
    full_clean(pledge, known)
    validate_membership(country, coalition, known=known)
    validate_category_unit(category, unit, known=known)
    validate_place(place, coalition)
    validate_relieves(actor, pledge, system=system)  # a new pledge has no id yet: it cannot name itself
    return pledge


def pledge_changes(actor: Reader | Actor, locked: Pledge, changes: Mapping[str, Any], *, system: bool = False,
                   known: Known | None = None) -> dict[str, Any]:
    """pledge_update's checks, on the pledge it locked: the changes set on it, and returned (empty: none)."""
    if locked.status == S.WITHDRAWN:
        raise ValidationError({"status": _("A withdrawn pledge cannot be changed.")})
    changed = apply_changes(locked, changes)
    if not changed:
        return changed
    if "relieves" in changed:  # by name, before the model's own check (which would name no field)
        validate_relieves(actor, locked, system=system)
    full_clean(locked, known)
    if {"category", "unit"} & set(changed):
        validate_category_unit(locked.category, locked.unit, known=known)
        has_tranches = locked.pk in known.tranches if known is not None and locked.pk in known.pledges else \
            locked.deliveries.exists()
        if has_tranches:
            raise ValidationError({"unit": _("The pledge has tranches counted in its unit; remove them first.")})
    if "place" in changed:
        validate_place(locked.place, locked.coalition)
    if {"category", "unit"} & set(changed):
        validate_relieves(actor, locked, system=system)
        relieved = locked.pk in known.relieved if known is not None and locked.pk in known.pledges else \
            locked.relieved_by.exists()
        if relieved:
            raise ValidationError({"category": _("Another pledge relieves this one in a rotation of its category "
                                                 "and unit; it cannot change them.")})
    if "quantity" in changed and (tranches := tranche_total(locked, known=known)) > locked.quantity:
        raise ValidationError({"quantity": _("Its tranches add up to %(total)s; it cannot be less than that.") % {
            "total": f"{tranches:,}"}})
    return changed


def pledge_move(locked: Pledge, to_status: str) -> None:
    """pledge_transition's check, on the pledge it locked: the status set on it."""
    error = transition_error(locked.status, to_status)
    if error:
        raise ValidationError({"status": error})
    locked.status = to_status


def caveat_new(
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
    known: Known | None = None,
) -> Caveat:
    """caveat_add's checks, with its pledge (if any) as locked: the caveat it would save, unsaved."""
    if pledge is not None:
        country, coalition = pledge.country, pledge.coalition
        releasability = releasability or pledge.releasability
    if country is None:
        country = getattr(actor, "country", None)
    if country is None:
        raise ValidationError({"country": _("A caveat needs a country.")})
    if coalition is None:
        raise ValidationError({"coalition": _("A caveat needs a coalition or a pledge.")})
    if not system:
        ensure_may_change_country(actor, country.pk)
    if pledge is not None and pledge.status == S.WITHDRAWN:
        raise ValidationError({"pledge": _("A withdrawn pledge takes no new caveats.")})
    if imposed_on is not None and imposed_on > latest_imposed_on():
        raise ValidationError({"imposed_on": _("A caveat cannot be imposed more than a year ahead.")})
    caveat = Caveat(
        country=country, coalition=coalition, pledge=pledge, kind=kind, text=text.strip(), rationale=rationale,
        releasability=releasability or Releasability.SECRETARIAT, imposed_on=imposed_on or timezone.localdate(),
        condition=condition,
    )
    validate_condition(caveat)
    full_clean(caveat, known)
    validate_membership(country, coalition, known=known)
    return caveat


__all__ = ["ALLOWED_TRANSITIONS", "Known", "caveat_new", "known_for", "pledge_changes",
           "pledge_move", "pledge_new", "transition_error"]
