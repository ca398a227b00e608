"""Meetings of a coalition: invitations per country, the agenda, outcome notes."""

from __future__ import annotations

import zoneinfo

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from pledges.models import Coalition, Country
from utilities.languages import BRIEF_LANGUAGE_CODES, BRIEF_LANGUAGES
from utilities.text import (
    LINE,
    length_constraint_condition,
    long_text_validators,
    single_line_constraints,
)
from utilities.versioning import tracked


class MeetingKind(models.TextChoices):
    MINISTERIAL = "ministerial", _("Ministerial")
    LEADERS = "leaders", _("Leaders")
    CHIEFS_OF_DEFENCE = "chiefs_of_defence", _("Chiefs of defence")
    WORKING_LEVEL = "working_level", _("Working level")


class MeetingStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    HELD = "held", _("Held")
    CANCELLED = "cancelled", _("Cancelled")


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("'%(zone)s' is not a known time zone (e.g. Europe/Brussels).") % {"zone": value})


@tracked
class Meeting(models.Model):
    coalition = models.ForeignKey(Coalition, verbose_name=_("coalition"), on_delete=models.PROTECT,
                                  related_name="meetings")
    title = models.CharField(_("title"), max_length=200, validators=LINE)
    kind = models.CharField(_("kind"), max_length=20, choices=MeetingKind.choices, default=MeetingKind.MINISTERIAL)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    time_zone = models.CharField(_("time zone"),
        max_length=64, default="Europe/Brussels", validators=[*LINE, validate_time_zone],
        help_text=_("Where the meeting is held; times are shown in it."),
    )
    place = models.CharField(_("place"), max_length=200, blank=True, validators=LINE)
    chairs = models.ManyToManyField(Country, verbose_name=_("chairs"), related_name="chaired_meetings", blank=True)
    status = models.CharField(_("status"), max_length=12, choices=MeetingStatus.choices, default=MeetingStatus.PLANNED)
    outcome_notes = models.TextField(_("outcome notes"), blank=True, validators=long_text_validators())
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)

    class Meta:
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        ordering = ["-starts_at"]
        indexes = [models.Index(fields=["coalition", "starts_at"], name="meeting_coalition_start")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gte=F("starts_at")),
                name="meeting_ends_after_start",
                violation_error_message=_("A meeting cannot end before it starts."),
            ),
            models.CheckConstraint(condition=length_constraint_condition("outcome_notes"),
                                   name="meeting_outcome_notes_length"),
            *single_line_constraints("meeting", "title", "time_zone", "place"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.starts_at:%Y-%m-%d})"


class InvitationStatus(models.TextChoices):
    INVITED = "invited", _("Invited")
    CONFIRMED = "confirmed", _("Confirmed")
    DECLINED = "declined", _("Declined")
    ATTENDED = "attended", _("Attended")


class DelegationLevel(models.TextChoices):
    HEAD_OF_STATE = "head_of_state", _("Head of state or government")
    MINISTER = "minister", _("Minister")
    DEPUTY_MINISTER = "deputy_minister", _("Deputy minister")
    CHIEF_OF_DEFENCE = "chief_of_defence", _("Chief of defence")
    AMBASSADOR = "ambassador", _("Ambassador")
    OFFICIAL = "official", _("Official")


@tracked
class Invitation(models.Model):
    meeting = models.ForeignKey(Meeting, verbose_name=_("meeting"), on_delete=models.CASCADE,
                                related_name="invitations")
    country = models.ForeignKey(Country, verbose_name=_("country"), on_delete=models.PROTECT,
                                related_name="invitations")
    status = models.CharField(_("status"), max_length=12, choices=InvitationStatus.choices,
                              default=InvitationStatus.INVITED)
    head_of_delegation = models.CharField(_("head of delegation"), max_length=200, blank=True, validators=LINE)
    level = models.CharField(_("level"), max_length=20, choices=DelegationLevel.choices, blank=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["meeting", "country__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "country"],
                name="invitation_unique_per_country",
                violation_error_message=_("This country is already invited to this meeting."),
            ),
            *single_line_constraints("invitation", "head_of_delegation"),
        ]

    def __str__(self) -> str:
        return f"{self.country} to {self.meeting}: {self.status}"


@tracked
class AgendaItem(models.Model):
    meeting = models.ForeignKey(Meeting, verbose_name=_("meeting"), on_delete=models.CASCADE,
                                related_name="agenda_items")
    position = models.PositiveSmallIntegerField(_("position"))
    title = models.CharField(_("title"), max_length=300, validators=LINE)
    description = models.TextField(_("description"), blank=True, validators=long_text_validators())

    class Meta:
        verbose_name = _("agenda item")
        verbose_name_plural = _("agenda items")
        ordering = ["meeting", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "position"],
                name="agenda_item_unique_position",
                violation_error_message=_("Another agenda item already has this position."),
                deferrable=models.Deferrable.DEFERRED,
            ),
            models.CheckConstraint(condition=length_constraint_condition("description"),
                                   name="agenda_item_description_length"),
            *single_line_constraints("agenda_item", "title"),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.title}"


class BriefStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")




class Brief(models.Model):
    """One numbered version of a meeting's pre-meeting brief, compiled in the background.

    The PDF and the XLSX annex are kept in the database (BinaryField), not on a
    disk: every web and worker machine reads the same PostgreSQL, so no shared
    volume is needed, the files become visible in the same commit that marks the
    brief ready, and they are backed up and deleted with the meeting. A brief is
    a few hundred kilobytes; lists defer the two columns.
    """

    meeting = models.ForeignKey(Meeting, verbose_name=_("meeting"), on_delete=models.CASCADE, related_name="briefs")
    number = models.PositiveIntegerField(_("number"), help_text=_("1, 2, 3... per meeting."))
    status = models.CharField(_("status"), max_length=10, choices=BriefStatus.choices, default=BriefStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(_("progress"), default=0, help_text=_("Per cent done."))
    as_of = models.DateTimeField(_("as of"), help_text=_("The moment of the data in the brief."))
    language = models.CharField(_("language"), max_length=2, choices=BRIEF_LANGUAGES, default="en",
                                help_text=_("Headings, labels, dates and numbers in this language; typed text stays "
                                            "as typed."))
    error = models.TextField(_("error"), blank=True)
    requested_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="requested_briefs",
        verbose_name=_("requested by"), help_text=_("Empty when the scheduler asked for it."),
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0,
                                                help_text=_("How many times a worker has started it."))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("heartbeat at"), null=True, blank=True,
                                        help_text=_("Last sign of life from the worker."))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True,
                                   help_text=_("When a message for it last went to the workers (empty: not yet)."))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    pdf = models.BinaryField(_("pdf"), null=True, blank=True, editable=False)
    xlsx = models.BinaryField(_("xlsx"), null=True, blank=True, editable=False)
    snapshot = models.JSONField(_("snapshot"), null=True, blank=True, editable=False,
                                help_text=_("The figures in the brief."))

    class Meta:
        verbose_name = _("brief")
        verbose_name_plural = _("briefs")
        ordering = ["meeting_id", "-number"]  # by the column: no join (it would be locked by FOR UPDATE too)
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "number"],
                name="brief_unique_number_per_meeting",
                violation_error_message=_("This meeting already has a brief with this number."),
            ),
            models.CheckConstraint(condition=Q(status__in=BriefStatus.values), name="brief_status_valid"),
            models.CheckConstraint(condition=Q(language__in=BRIEF_LANGUAGE_CODES), name="brief_language_valid"),
            models.CheckConstraint(
                condition=Q(progress__gte=0, progress__lte=100),
                name="brief_progress_percent",
                violation_error_message=_("Progress is a percentage from 0 to 100."),
            ),
            models.CheckConstraint(
                condition=~Q(status=BriefStatus.READY) | (Q(pdf__isnull=False) & Q(xlsx__isnull=False)),
                name="brief_ready_has_files",
                violation_error_message=_("A ready brief has its PDF and XLSX."),
            ),
        ]

    def __str__(self) -> str:
        return f"Brief {self.number} for {self.meeting.title} ({self.status})"

    @property
    def is_ready(self) -> bool:
        return self.status == BriefStatus.READY

    def filename(self, extension: str) -> str:
        day = self.meeting.starts_at.strftime("%Y-%m-%d")
        return f"brief-{day}-meeting{self.meeting_id}-v{self.number}.{extension}"


class NotificationKind(models.TextChoices):
    REMINDER = "reminder", _("Reminder before a meeting")
    BRIEF_READY = "brief_ready", _("Brief ready")
    ACTION_RECORDED = "action_recorded", _("Action recorded for a country")  # sent by outcomes.notices


class Notification(models.Model):
    """One email to one person about one meeting (a reminder) or one brief (ready): claimed before it is sent,
    marked when it was, so it goes out once however often, and by however many workers, the job runs."""

    key = models.CharField(_("key"), max_length=100, unique=True, help_text=_("What and to whom, e.g. reminder:12:7."))
    kind = models.CharField(_("kind"), max_length=20, choices=NotificationKind.choices)
    meeting = models.ForeignKey(Meeting, verbose_name=_("meeting"), on_delete=models.CASCADE,
                                related_name="notifications")
    brief = models.ForeignKey(Brief, verbose_name=_("brief"), on_delete=models.CASCADE, null=True, blank=True,
                              related_name="notifications")
    user = models.ForeignKey("accounts.User", verbose_name=_("user"), on_delete=models.CASCADE,
                             related_name="notifications")
    claimed_at = models.DateTimeField(_("claimed at"), help_text=_("When a worker took it to send."))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True, help_text=_("When the mail server took it."))

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-claimed_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=NotificationKind.values), name="notification_kind_valid"),
            models.CheckConstraint(condition=Q(kind__in=(NotificationKind.REMINDER, NotificationKind.ACTION_RECORDED))
                                   | Q(brief__isnull=False),
                                   name="notification_brief_ready_names_its_brief"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.user_id} ({'sent' if self.sent_at else 'pending'})"
