"""What a meeting decided and who must do what by when: decisions recorded as said, actions followed to done."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pgtrigger
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from meetings.models import Meeting
from pledges.models import Country
from utilities.text import length_constraint_condition, long_text_validators
from utilities.versioning import tracked


class OutcomeKind(models.TextChoices):
    DECISION = "decision", _("Decision")
    ACTION = "action", _("Action")


class OutcomeStatus(models.TextChoices):
    RECORDED = "recorded", pgettext_lazy("outcome status", "Recorded")
    OPEN = "open", pgettext_lazy("outcome status", "Open")
    DONE = "done", pgettext_lazy("outcome status", "Done")
    DROPPED = "dropped", pgettext_lazy("outcome status", "Dropped")


ACTION_STATUSES = (OutcomeStatus.OPEN, OutcomeStatus.DONE, OutcomeStatus.DROPPED)
CLOSED_STATUSES = (OutcomeStatus.DONE, OutcomeStatus.DROPPED)


def overdue_q(day: dt.date, prefix: str = "") -> Q:
    """The open actions whose due day is before `day`."""
    return Q(**{f"{prefix}kind": OutcomeKind.ACTION, f"{prefix}status": OutcomeStatus.OPEN,
                f"{prefix}due_on__lt": day})


def is_overdue(row: Any, day: dt.date | None = None) -> bool:
    """An action (a live row or a history row) still open after its due day; `day` defaults to today."""
    day = day or timezone.localdate()
    return bool(row.kind == OutcomeKind.ACTION and row.status == OutcomeStatus.OPEN and row.due_on is not None
                and row.due_on < day)


@tracked
class Outcome(models.Model):
    """A decision of a meeting, or an action with its owner (a member country; none: the secretariat), its due
    day and its status. Recorded and edited by the secretariat; the owner country's staff close their actions."""

    meeting = models.ForeignKey(Meeting, verbose_name=_("meeting"), on_delete=models.PROTECT, related_name="outcomes")
    kind = models.CharField(_("kind"), max_length=8, choices=OutcomeKind.choices)
    text = models.TextField(_("text"), validators=long_text_validators(),
                            help_text=_("The decision as said, or what must be done."))
    owner = models.ForeignKey(Country, verbose_name=_("owner"), on_delete=models.PROTECT, null=True, blank=True,
                              related_name="outcomes",
                              help_text=_("The country that must act; empty: the secretariat (actions only)."))
    due_on = models.DateField(_("due on"), null=True, blank=True, help_text=_("The day it is due (actions only)."))
    status = models.CharField(_("status"), max_length=8, choices=OutcomeStatus.choices)
    note = models.TextField(_("note"), blank=True, validators=long_text_validators())
    closed_on = models.DateField(_("closed on"), null=True, blank=True,
                                 help_text=_("The day the action was done or dropped; empty while open."))
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    created_at = models.DateTimeField(_("created at"), db_default=Now(), editable=False)
    updated_at = models.DateTimeField(_("updated at"), db_default=Now(), editable=False)

    class Meta:
        verbose_name = _("outcome")
        verbose_name_plural = _("outcomes")
        ordering = ["meeting", "id"]
        indexes = [models.Index(fields=["owner", "status"], name="outcome_owner_status")]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=OutcomeKind.values), name="outcome_kind_valid"),
            models.CheckConstraint(
                condition=Q(kind=OutcomeKind.DECISION, status=OutcomeStatus.RECORDED, owner__isnull=True,
                            due_on__isnull=True)
                | Q(kind=OutcomeKind.ACTION, status__in=ACTION_STATUSES, due_on__isnull=False),
                name="outcome_kind_fields",
                violation_error_message=_("A decision is recorded, with no owner and no due day; an action has a "
                                          "due day and is open, done or dropped."),
            ),
            models.CheckConstraint(
                condition=Q(status__in=CLOSED_STATUSES, closed_on__isnull=False)
                | (~Q(status__in=CLOSED_STATUSES) & Q(closed_on__isnull=True)),
                name="outcome_closed_on_iff_closed",
                violation_error_message=_("A done or dropped action has the day it was closed; no other outcome "
                                          "has one."),
            ),
            models.CheckConstraint(condition=~Q(text=""), name="outcome_text_not_empty",
                                   violation_error_message=_("An outcome needs a text.")),
            models.CheckConstraint(condition=length_constraint_condition("text"), name="outcome_text_length"),
            models.CheckConstraint(condition=length_constraint_condition("note"), name="outcome_note_length"),
        ]
        triggers = [
            # An action's owner is a member of the meeting's coalition, whatever the write path.
            pgtrigger.Trigger(
                name="owner_is_member", when=pgtrigger.Before, operation=pgtrigger.Insert | pgtrigger.Update,
                condition=pgtrigger.Q(new__owner__isnull=False),
                func=pgtrigger.Func(
                    "IF NOT EXISTS (SELECT 1 FROM pledges_membership m JOIN meetings_meeting g "
                    "ON g.coalition_id = m.coalition_id WHERE g.id = NEW.meeting_id AND m.country_id = NEW.owner_id) "
                    "THEN RAISE EXCEPTION 'The owner of outcome % is not a member of its meeting''s coalition', "
                    "NEW.id USING ERRCODE = 'check_violation', CONSTRAINT = 'outcome_owner_is_member'; "
                    "END IF; RETURN NEW;"
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.text if len(self.text) <= 80 else self.text[:79] + "…"

    @property
    def is_overdue(self) -> bool:
        return is_overdue(self)


class OurAction(Outcome):
    """The admin's "Our actions": a ministry's own country's actions (outcomes.admin)."""

    class Meta:
        proxy = True
        verbose_name = _("our action")
        verbose_name_plural = _("our actions")
