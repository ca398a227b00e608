"""Meetings of a coalition: invitations per country, the agenda, outcome notes."""

from __future__ import annotations

import zoneinfo

import pghistory
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from pledges.models import Coalition, Country


class MeetingKind(models.TextChoices):
    MINISTERIAL = "ministerial", "Ministerial"
    LEADERS = "leaders", "Leaders"
    CHIEFS_OF_DEFENCE = "chiefs_of_defence", "Chiefs of defence"
    WORKING_LEVEL = "working_level", "Working level"


class MeetingStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    HELD = "held", "Held"
    CANCELLED = "cancelled", "Cancelled"


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"'{value}' is not a known time zone (e.g. Europe/Brussels).")


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Meeting(models.Model):
    coalition = models.ForeignKey(Coalition, on_delete=models.PROTECT, related_name="meetings")
    title = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=MeetingKind.choices, default=MeetingKind.MINISTERIAL)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    time_zone = models.CharField(
        max_length=64, default="Europe/Brussels", validators=[validate_time_zone],
        help_text="Where the meeting is held; times are shown in it.",
    )
    place = models.CharField(max_length=200, blank=True)
    chairs = models.ManyToManyField(Country, related_name="chaired_meetings", blank=True)
    status = models.CharField(max_length=12, choices=MeetingStatus.choices, default=MeetingStatus.PLANNED)
    outcome_notes = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["-starts_at"]
        indexes = [models.Index(fields=["coalition", "starts_at"], name="meeting_coalition_start")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gte=F("starts_at")),
                name="meeting_ends_after_start",
                violation_error_message="A meeting cannot end before it starts.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.starts_at:%Y-%m-%d})"


class InvitationStatus(models.TextChoices):
    INVITED = "invited", "Invited"
    CONFIRMED = "confirmed", "Confirmed"
    DECLINED = "declined", "Declined"
    ATTENDED = "attended", "Attended"


class DelegationLevel(models.TextChoices):
    HEAD_OF_STATE = "head_of_state", "Head of state or government"
    MINISTER = "minister", "Minister"
    DEPUTY_MINISTER = "deputy_minister", "Deputy minister"
    CHIEF_OF_DEFENCE = "chief_of_defence", "Chief of defence"
    AMBASSADOR = "ambassador", "Ambassador"
    OFFICIAL = "official", "Official"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class Invitation(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="invitations")
    country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="invitations")
    status = models.CharField(max_length=12, choices=InvitationStatus.choices, default=InvitationStatus.INVITED)
    head_of_delegation = models.CharField(max_length=200, blank=True)
    level = models.CharField(max_length=20, choices=DelegationLevel.choices, blank=True)

    class Meta:
        ordering = ["meeting", "country__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "country"],
                name="invitation_unique_per_country",
                violation_error_message="This country is already invited to this meeting.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.country} to {self.meeting}: {self.status}"


@pghistory.track(pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())
class AgendaItem(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="agenda_items")
    position = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=300)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["meeting", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "position"],
                name="agenda_item_unique_position",
                violation_error_message="Another agenda item already has this position.",
                deferrable=models.Deferrable.DEFERRED,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.title}"
