"""Countries, coalitions, capability categories, pledges, caveats and requirements.

Invariants live in the database: positive quantities, ordered dates, a pledge's
unit belonging to its category and its country belonging to its coalition (the
last two as composite foreign keys added in migration 0002). Every change to a
pledge, caveat or requirement is recorded by pghistory triggers, so bulk writes
and raw SQL are caught too.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pgtrigger
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from places.gazetteer import validate_country_code  # migration pledges/0016 imports it from here
from utilities.languages import BRIEF_LANGUAGES
from utilities.text import (
    LINE,
    length_constraint_condition,
    long_text_validators,
    single_line_constraints,
)
from utilities.versioning import tracked


class Country(models.Model):
    code = models.CharField(_("ISO code"), max_length=2, unique=True, validators=LINE,
                            help_text=_("ISO 3166-1 alpha-2, e.g. PL."))
    name = models.CharField(_("name"), max_length=100, unique=True, validators=LINE)

    class Meta:
        verbose_name = _("country")
        verbose_name_plural = _("countries")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(code__regex=r"^[A-Z]{2}$"),
                name="country_code_iso_alpha2",
                violation_error_message=_("The code must be two capital letters (ISO 3166-1 alpha-2)."),
            ),
            *single_line_constraints("country", "name"),
        ]

    def __str__(self) -> str:
        return self.name


class Coalition(models.Model):
    """A format that countries belong to: the coalition of the willing, the contact group."""

    name = models.CharField(_("name"), max_length=200, unique=True, validators=LINE)
    short_name = models.CharField(_("short name"), max_length=40, unique=True, validators=LINE)
    description = models.TextField(_("description"), blank=True, validators=long_text_validators())
    members = models.ManyToManyField(Country, verbose_name=_("members"), through="Membership",
                                     related_name="coalitions")
    reconfirm_days = models.PositiveSmallIntegerField(
        _("reconfirm within (days)"), default=180, validators=[MinValueValidator(1)],
        help_text=_("An offered pledge not reconfirmed for this many days is stale (the UN's six-month renewal: 180)."),
    )
    default_language = models.CharField(
        _("default language"), max_length=2, choices=BRIEF_LANGUAGES, default="en",
        help_text=_("The language of the briefs the scheduler compiles before meetings."),
    )
    theatre = ArrayField(
        models.CharField(max_length=2, validators=[validate_country_code]), verbose_name=_("theatre"),
        blank=True, default=list,
        help_text=_("ISO codes of the countries where this coalition's pledges may be placed, comma-separated "
                    "(e.g. UA,PL,RO). Empty: anywhere."),
    )
    reminder_days = models.PositiveSmallIntegerField(
        _("remind (days before a meeting)"), default=7, validators=[MinValueValidator(1)],
        help_text=_("Days before a planned meeting when each invited country's staff are reminded by email."),
    )

    class Meta:
        verbose_name = _("coalition")
        verbose_name_plural = _("coalitions")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=length_constraint_condition("description"),
                                   name="coalition_description_length"),
            models.CheckConstraint(condition=Q(reconfirm_days__gte=1, reminder_days__gte=1),
                                   name="coalition_days_positive",
                                   violation_error_message=_("Give at least one day.")),
            *single_line_constraints("coalition", "name", "short_name"),
        ]

    def __str__(self) -> str:
        return self.short_name


class Membership(models.Model):
    coalition = models.ForeignKey(Coalition, verbose_name=_("coalition"), on_delete=models.CASCADE,
                                  related_name="memberships")
    country = models.ForeignKey(Country, verbose_name=_("country"), on_delete=models.PROTECT,
                                related_name="memberships")
    joined_on = models.DateField(_("member since"), null=True, blank=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["coalition", "country__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["coalition", "country"],
                name="membership_unique",
                violation_error_message=_("This country is already a member of this coalition."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.country} in {self.coalition}"


class Unit(models.Model):
    """What a quantity is counted in: personnel, aircraft, vessels, systems."""

    code = models.SlugField(_("code"), max_length=40, unique=True, validators=LINE)
    name = models.CharField(_("name"), max_length=80, validators=LINE)

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        ordering = ["code"]
        constraints = single_line_constraints("unit", "code", "name")

    def __str__(self) -> str:
        return self.code


class CapabilityCategory(models.Model):
    code = models.SlugField(_("code"), max_length=40, unique=True, validators=LINE)
    name = models.CharField(_("name"), max_length=80, validators=LINE)
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=100)
    units = models.ManyToManyField(Unit, verbose_name=_("units"), through="CategoryUnit", related_name="categories")

    class Meta:
        verbose_name = _("capability category")
        verbose_name_plural = _("capability categories")
        ordering = ["sort_order", "code"]
        constraints = single_line_constraints("category", "code", "name")

    def __str__(self) -> str:
        return self.name


class CategoryUnit(models.Model):
    """A unit a category may be counted in; pledges and requirements reference this pair."""

    category = models.ForeignKey(CapabilityCategory, verbose_name=_("category"), on_delete=models.CASCADE,
                                 related_name="category_units")
    unit = models.ForeignKey(Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="category_units")

    class Meta:
        verbose_name = _("unit of a category")
        verbose_name_plural = _("units of categories")
        ordering = ["category", "unit"]
        constraints = [
            models.UniqueConstraint(fields=["category", "unit"], name="category_unit_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.category.code}/{self.unit.code}"


class PledgeStatus(models.TextChoices):
    # "pledge status": a pledge's words (feminine in French, "confirmée") apart from an invitation's ("confirmé")
    DRAFT = "draft", pgettext_lazy("pledge status", "Draft")
    INDICATIVE = "indicative", pgettext_lazy("pledge status", "Indicative")
    CONFIRMED = "confirmed", pgettext_lazy("pledge status", "Confirmed")
    DEPLOYED = "deployed", pgettext_lazy("pledge status", "Deployed")
    WITHDRAWN = "withdrawn", pgettext_lazy("pledge status", "Withdrawn")


# An offered pledge is one the coalition sees; a committed one counts against the requirement.
OFFERED = (PledgeStatus.INDICATIVE, PledgeStatus.CONFIRMED, PledgeStatus.DEPLOYED)
COMMITTED = (PledgeStatus.CONFIRMED, PledgeStatus.DEPLOYED)


# A pledge counts from `available_from` to `available_until`, an empty bound open: the end is never before the
# start. Pledge.clean and the API's write bodies say so in these words; pledge_availability_ordered is the net.
AVAILABILITY_ORDER_MESSAGE = _("'Available until' must not be before 'available from'.")


def check_availability_order(available_from: dt.date | None, available_until: dt.date | None) -> None:
    if available_from and available_until and available_until < available_from:
        raise ValidationError({"available_until": AVAILABILITY_ORDER_MESSAGE})


class Releasability(models.TextChoices):
    SECRETARIAT = "secretariat", _("Secretariat and analysts")
    COALITION = "coalition", _("Whole coalition")


@tracked
class Pledge(models.Model):
    country = models.ForeignKey(Country, verbose_name=_("country"), on_delete=models.PROTECT, related_name="pledges")
    coalition = models.ForeignKey(Coalition, verbose_name=_("coalition"), on_delete=models.PROTECT,
                                  related_name="pledges")
    category = models.ForeignKey(CapabilityCategory, verbose_name=_("category"), on_delete=models.PROTECT,
                                 related_name="pledges")
    unit = models.ForeignKey(Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="pledges")
    quantity = models.PositiveIntegerField(_("quantity"), validators=[MinValueValidator(1)])
    description = models.TextField(_("description"), blank=True, validators=long_text_validators(),
                                   help_text=_("What exactly is offered."))
    available_from = models.DateField(_("available from"), null=True, blank=True)
    available_until = models.DateField(_("available until"), null=True, blank=True)
    notice_to_move_days = models.PositiveSmallIntegerField(_("notice to move (days)"), null=True, blank=True)
    place = models.ForeignKey(
        "places.Place", verbose_name=_("place"), null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text=_("Where it is based or delivered, from the gazetteer: type a few letters (Kyiv, Kiev, Odesa)."),
    )
    location = models.CharField(_("location"), max_length=200, blank=True, validators=LINE,
                                help_text=_("In words, where no place fits or to say more (e.g. Eastern Poland)."))
    estimated_value_eur = models.DecimalField(
        _("estimated value (EUR)"), max_digits=14, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(0)],
    )
    relieves = models.ForeignKey(
        "self", verbose_name=_("relieves"), null=True, blank=True, on_delete=models.PROTECT, related_name="relieved_by",
        help_text=_("The pledge this one takes over from in a rotation (same coalition, category and unit)."),
    )
    status = models.CharField(_("status"), max_length=12, choices=PledgeStatus.choices, default=PledgeStatus.DRAFT)
    releasability = models.CharField(_("releasability"),
        max_length=12, choices=Releasability.choices, default=Releasability.SECRETARIAT
    )
    is_illustrative = models.BooleanField(_("is illustrative"),
        default=False, help_text=_("Demo figure, not a real national offer."))
    reconfirmed_at = models.DateTimeField(
        _("last reconfirmed"), null=True, blank=True, editable=False,
        help_text=_("When the country last offered, confirmed or reconfirmed it; stale after the coalition's "
        "reconfirm_days."),
    )
    version = models.PositiveIntegerField(_("version"), default=1, editable=False,
                                          help_text=_("Raised on every change."))
    created_at = models.DateTimeField(_("created at"), db_default=Now(), editable=False)
    updated_at = models.DateTimeField(_("updated at"), db_default=Now(), editable=False)

    class Meta:
        verbose_name = _("pledge")
        verbose_name_plural = _("pledges")
        ordering = ["country__name", "category__sort_order", "id"]
        indexes = [
            # Covering: the force picture's two passes over a coalition's offered pledges read only this index
            # (an index-only scan instead of reading the wide rows: 190 -> 142 ms at 100,000 pledges).
            models.Index(fields=["coalition", "status"], name="pledge_coalition_status_cover",
                         include=["id", "country", "category", "unit", "quantity", "releasability", "reconfirmed_at"]),
            models.Index(fields=["country", "coalition"], name="pledge_country_coalition"),
            models.Index(fields=["updated_at"], name="pledge_updated_at"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0),
                name="pledge_quantity_positive",
                violation_error_message=_("The quantity must be greater than zero."),
            ),
            models.CheckConstraint(
                condition=Q(available_until__isnull=True)
                | Q(available_from__isnull=True)
                | Q(available_until__gte=F("available_from")),
                name="pledge_availability_ordered",
                violation_error_message=AVAILABILITY_ORDER_MESSAGE,
            ),
            models.CheckConstraint(
                condition=Q(estimated_value_eur__isnull=True) | Q(estimated_value_eur__gte=0),
                name="pledge_value_not_negative",
                violation_error_message=_("The estimated value must not be negative."),
            ),
            models.CheckConstraint(condition=Q(status__in=PledgeStatus.values), name="pledge_status_valid"),
            models.CheckConstraint(
                condition=Q(releasability__in=Releasability.values), name="pledge_releasability_valid"
            ),
            models.CheckConstraint(condition=length_constraint_condition("description"),
                                   name="pledge_description_length"),
            *single_line_constraints("pledge", "location"),
            models.CheckConstraint(
                condition=Q(status=PledgeStatus.DRAFT) | Q(reconfirmed_at__isnull=False),
                name="pledge_offered_has_reconfirmed_at",
                violation_error_message=_("An offered pledge needs the moment it was last reconfirmed."),
            ),
            # Target of the caveats' composite foreign key (pledge, country, coalition).
            models.UniqueConstraint(fields=["id", "country", "coalition"], name="pledge_id_country_coalition"),
            # Target of the rotations' composite foreign key (relieves, coalition, category, unit): a pledge
            # relieves one of its own coalition, category and unit (migration 0021).
            models.UniqueConstraint(fields=["id", "coalition", "category", "unit"],
                                    name="pledge_id_coalition_category_unit"),
            models.CheckConstraint(condition=~Q(relieves=F("id")), name="pledge_not_relieving_itself",
                                   violation_error_message=_("A pledge cannot relieve itself.")),
        ]
        triggers = [
            # The tranches of a pledge never add up to more than it: a pledge is not lowered below them.
            pgtrigger.Trigger(
                name="quantity_covers_tranches", when=pgtrigger.Before, operation=pgtrigger.Update,
                condition=pgtrigger.Q(old__quantity__df=pgtrigger.F("new__quantity")),
                func=pgtrigger.Func(
                    "IF NEW.quantity < (SELECT coalesce(sum(quantity), 0) FROM pledges_delivery "
                    "WHERE pledge_id = NEW.id) THEN RAISE EXCEPTION 'The pledge''s tranches add up to more than %', "
                    "NEW.quantity USING ERRCODE = 'check_violation', CONSTRAINT = 'delivery_total_within_pledge'; "
                    "END IF; RETURN NEW;"
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.country.code} {self.category.code} {self.quantity} {self.unit.code} ({self.status})"

    def clean(self) -> None:
        check_availability_order(self.available_from, self.available_until)

    @property
    def is_offered(self) -> bool:
        return self.status in OFFERED


class ConditionStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("condition status", "Open")
    MET = "met", pgettext_lazy("condition status", "Met")
    FAILED = "failed", pgettext_lazy("condition status", "Failed")


@tracked
class Condition(models.Model):
    """A named condition that pledges hang on ("United States backstop"), kept by the secretariat. A `condition`
    caveat may name one: a failed condition takes the pledges under it out of the force, a met one makes them
    unconditional (pledges.scenarios)."""

    coalition = models.ForeignKey(Coalition, verbose_name=_("coalition"), on_delete=models.PROTECT,
                                  related_name="conditions")
    name = models.CharField(_("name"), max_length=200, validators=LINE)
    description = models.TextField(_("description"), blank=True, validators=long_text_validators())
    status = models.CharField(_("status"), max_length=8, choices=ConditionStatus.choices,
                              default=ConditionStatus.OPEN)
    decided_on = models.DateField(_("decided on"), null=True, blank=True,
                                  help_text=_("The day it was met or failed; empty while open."))
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    created_at = models.DateTimeField(_("created at"), db_default=Now(), editable=False)
    updated_at = models.DateTimeField(_("updated at"), db_default=Now(), editable=False)

    class Meta:
        verbose_name = _("condition")
        verbose_name_plural = _("conditions")
        ordering = ["coalition", "name", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ConditionStatus.values), name="condition_status_valid"),
            models.CheckConstraint(
                condition=Q(status=ConditionStatus.OPEN, decided_on__isnull=True)
                | (~Q(status=ConditionStatus.OPEN) & Q(decided_on__isnull=False)),
                name="condition_decided_on_iff_decided",
                violation_error_message=_("A met or failed condition needs the day it was decided; an open one "
                                          "has none."),
            ),
            models.CheckConstraint(condition=~Q(name=""), name="condition_name_not_empty",
                                   violation_error_message=_("A condition needs a name.")),
            models.CheckConstraint(condition=length_constraint_condition("description"),
                                   name="condition_description_length"),
            models.UniqueConstraint(fields=["coalition", "name"], name="condition_unique_name",
                                    violation_error_message=_("This coalition already has a condition of this "
                                                              "name.")),
            # Target of the caveats' composite foreign key (condition, coalition).
            models.UniqueConstraint(fields=["id", "coalition"], name="condition_id_coalition"),
            *single_line_constraints("condition", "name"),
        ]

    def __str__(self) -> str:
        return self.name


class CaveatKind(models.TextChoices):
    NO_DEPLOYMENT = "no_deployment", _("No deployment")
    GEOGRAPHIC = "geographic", _("Geographic")
    CONDITION = "condition", _("Condition")
    ROLE = "role", _("Role")
    DURATION = "duration", _("Duration")
    OTHER = "other", _("Other")


# How far ahead a caveat may be dated when imposed: a typo like 9999-12-31 is refused (by caveat_add, and by the
# API's write body first, in words that name the day).
CAVEAT_IMPOSED_AHEAD = dt.timedelta(days=366)


def latest_imposed_on() -> dt.date:
    """The last day a caveat imposed today may be dated."""
    return timezone.localdate() + CAVEAT_IMPOSED_AHEAD


@tracked
class Caveat(models.Model):
    """A national restriction: on one pledge, or (pledge empty) on all of a country's pledges to a coalition."""

    country = models.ForeignKey(Country, verbose_name=_("country"), on_delete=models.PROTECT, related_name="caveats")
    coalition = models.ForeignKey(Coalition, verbose_name=_("coalition"), on_delete=models.PROTECT,
                                  related_name="caveats")
    pledge = models.ForeignKey(
        Pledge, on_delete=models.CASCADE, null=True, blank=True, related_name="caveats", verbose_name=_("pledge"),
        help_text=_("Leave empty for a caveat on all of the country's pledges to the coalition."),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=CaveatKind.choices)
    text = models.TextField(_("text"), validators=long_text_validators())
    rationale = models.TextField(_("rationale"), blank=True, validators=long_text_validators(),
                                 help_text=_("Why, e.g. 'threat from Belarus'."))
    releasability = models.CharField(_("releasability"),
        max_length=12, choices=Releasability.choices, default=Releasability.SECRETARIAT,
        help_text=_("Whether other members' ministry staff see it (analysts and the secretariat always do). "
        "A pledge's caveat is never seen where its pledge is not."),
    )
    condition = models.ForeignKey(
        Condition, verbose_name=_("named condition"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="caveats",
        help_text=_("For a caveat of kind condition: the coalition's named condition it waits for."),
    )
    is_active = models.BooleanField(_("is active"), default=True)
    imposed_on = models.DateField(_("in force since"), db_default=Now())
    lifted_on = models.DateField(_("lifted on"), null=True, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    created_at = models.DateTimeField(_("created at"), db_default=Now(), editable=False)
    updated_at = models.DateTimeField(_("updated at"), db_default=Now(), editable=False)

    class Meta:
        verbose_name = _("caveat")
        verbose_name_plural = _("caveats")
        ordering = ["country__name", "id"]
        indexes = [models.Index(fields=["coalition", "is_active"], name="caveat_coalition_active")]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_active=True, lifted_on__isnull=True) | Q(is_active=False, lifted_on__isnull=False),
                name="caveat_lifted_on_iff_lifted",
                violation_error_message=_("A lifted caveat needs the date it was lifted; an active one has none."),
            ),
            models.CheckConstraint(
                condition=Q(lifted_on__isnull=True) | Q(lifted_on__gte=F("imposed_on")),
                name="caveat_dates_ordered",
                violation_error_message=_("A caveat cannot be lifted before it was imposed."),
            ),
            models.CheckConstraint(condition=Q(kind__in=CaveatKind.values), name="caveat_kind_valid"),
            models.CheckConstraint(
                condition=~Q(text=""),
                name="caveat_text_not_empty",
                violation_error_message=_("A caveat needs a text."),
            ),
            models.CheckConstraint(condition=length_constraint_condition("text"), name="caveat_text_length"),
            models.CheckConstraint(condition=length_constraint_condition("rationale"),
                                   name="caveat_rationale_length"),
            models.CheckConstraint(
                condition=Q(condition__isnull=True) | Q(kind=CaveatKind.CONDITION),
                name="caveat_condition_only_on_condition_kind",
                violation_error_message=_("Only a caveat of kind condition names a condition."),
            ),
        ]

    def __str__(self) -> str:
        scope = f"pledge {self.pledge_id}" if self.pledge_id else "all pledges"
        return f"{self.country_id and self.country.code} {self.kind} ({scope})"

    def clean(self) -> None:
        if self.lifted_on and self.imposed_on and self.lifted_on < self.imposed_on:
            raise ValidationError({"lifted_on": _("A caveat cannot be lifted before it was imposed.")})


@tracked
class Delivery(models.Model):
    """A tranche of a pledge: a quantity in the pledge's unit, the day it is planned for and, once it happened,
    the day it was delivered. A pledge's tranches add up to no more than its quantity (checked under the
    pledge's row lock by a trigger, whatever code writes them)."""

    pledge = models.ForeignKey(Pledge, verbose_name=_("pledge"), on_delete=models.CASCADE, related_name="deliveries")
    quantity = models.PositiveIntegerField(_("quantity"), validators=[MinValueValidator(1)])
    planned_on = models.DateField(_("planned for"), help_text=_("The day the tranche is due."))
    delivered_on = models.DateField(_("delivered on"), null=True, blank=True,
                                    help_text=_("The day it arrived; empty until then."))
    note = models.TextField(_("note"), blank=True, validators=long_text_validators())
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    created_at = models.DateTimeField(_("created at"), db_default=Now(), editable=False)
    updated_at = models.DateTimeField(_("updated at"), db_default=Now(), editable=False)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["pledge_id", "planned_on", "id"]
        indexes = [
            models.Index(fields=["pledge"], condition=Q(delivered_on__isnull=True), name="delivery_undelivered"),
            models.Index(fields=["planned_on"], name="delivery_planned_on"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="delivery_quantity_positive",
                violation_error_message=_("The quantity must be greater than zero."),
            ),
            models.CheckConstraint(condition=length_constraint_condition("note"), name="delivery_note_length"),
        ]
        triggers = [
            pgtrigger.Trigger(
                name="total_within_pledge", when=pgtrigger.After, operation=pgtrigger.Insert | pgtrigger.Update,
                func=pgtrigger.Func(
                    # The pledge row locked first: concurrent tranches of one pledge are checked one at a time,
                    # each seeing the others once committed.
                    "PERFORM 1 FROM pledges_pledge WHERE id = NEW.pledge_id FOR UPDATE; "
                    "IF (SELECT coalesce(sum(quantity), 0) FROM pledges_delivery WHERE pledge_id = NEW.pledge_id) "
                    "> (SELECT quantity FROM pledges_pledge WHERE id = NEW.pledge_id) THEN "
                    "RAISE EXCEPTION 'The tranches of pledge % add up to more than it', NEW.pledge_id "
                    "USING ERRCODE = 'check_violation', CONSTRAINT = 'delivery_total_within_pledge'; END IF; "
                    "RETURN NULL;"
                ),
            ),
        ]

    def __str__(self) -> str:
        state = f"delivered {self.delivered_on}" if self.delivered_on else f"planned {self.planned_on}"
        return f"{self.quantity} ({state})"

    def is_overdue_on(self, day: Any) -> bool:
        return self.delivered_on is None and self.planned_on < day


@tracked
class Requirement(models.Model):
    """What the coalition needs in a category, counted in one unit (the statement of requirements)."""

    coalition = models.ForeignKey(Coalition, verbose_name=_("coalition"), on_delete=models.CASCADE,
                                  related_name="requirements")
    category = models.ForeignKey(CapabilityCategory, verbose_name=_("category"), on_delete=models.PROTECT,
                                 related_name="requirements")
    unit = models.ForeignKey(Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="requirements")
    quantity = models.PositiveIntegerField(_("quantity"), validators=[MinValueValidator(1)])
    notes = models.TextField(_("notes"), blank=True, validators=long_text_validators())
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    updated_at = models.DateTimeField(_("updated at"), db_default=Now(), editable=False)

    class Meta:
        verbose_name = _("requirement")
        verbose_name_plural = _("requirements")
        ordering = ["coalition", "category__sort_order", "unit__code"]
        constraints = [
            models.CheckConstraint(condition=length_constraint_condition("notes"), name="requirement_notes_length"),
            models.CheckConstraint(
                condition=Q(quantity__gt=0),
                name="requirement_quantity_positive",
                violation_error_message=_("The quantity must be greater than zero."),
            ),
            models.UniqueConstraint(
                fields=["coalition", "category", "unit"],
                name="requirement_unique_per_unit",
                violation_error_message=_("This coalition already has a requirement for this category and unit."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.coalition}: {self.category.code} {self.quantity} {self.unit.code}"

