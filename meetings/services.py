"""Every write to meetings, invitations and the agenda, and the request for a brief.

Each service is keyword-only, runs in one transaction, checks that the actor is
the secretariat (pledges.visibility.ensure_secretariat), validates, and records
who acted in the history context. A requested brief is compiled by the pipeline
(meetings.briefs.pipeline) in a Celery worker (meetings.tasks).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.roles import Actor, Reader
from meetings.briefs.pipeline import brief_create, brief_language
from meetings.models import (
    AgendaItem,
    Brief,
    DelegationLevel,
    Invitation,
    InvitationStatus,
    Meeting,
    MeetingKind,
    MeetingStatus,
)
from meetings.selectors import ensure_may_request_brief
from pledges.models import Coalition, Country, Membership
from pledges.visibility import ensure_secretariat
from utilities.versioning import check_version, history_context

MEETING_EDITABLE_FIELDS = frozenset({
    "title", "kind", "starts_at", "ends_at", "time_zone", "place", "status", "outcome_notes", "chairs",
})


def validate_chairs(coalition: Coalition, chairs: Iterable[Country]) -> list[Country]:
    chairs = list(chairs)
    member_ids = set(
        Membership.objects.filter(coalition=coalition, country__in=chairs).values_list("country_id", flat=True)
    )
    outsiders = [c.name for c in chairs if c.pk not in member_ids]
    if outsiders:
        raise ValidationError({"chairs": _("Not members of %(coalition)s: %(countries)s.") % {
            "coalition": coalition, "countries": ", ".join(outsiders)}})
    return chairs


# Meetings are dated within these years; outside them is a typo (and breaks date arithmetic in the brief).
MEETING_FIRST_YEAR = 1900
MEETING_LAST_YEAR = 2200


def validate_meeting_times(starts_at: dt.datetime | None, ends_at: dt.datetime | None) -> None:
    """Both moments within MEETING_FIRST_YEAR..MEETING_LAST_YEAR; a ValidationError naming the field if not.

    Called by the services (so the API answers 400) and by the admin's meeting form.
    """
    errors: dict[str, str] = {}
    for field, value in (("starts_at", starts_at), ("ends_at", ends_at)):
        if value is not None and not MEETING_FIRST_YEAR <= value.year <= MEETING_LAST_YEAR:
            errors[field] = _("Give a date between the years %(first)s and %(last)s.") % {
                "first": MEETING_FIRST_YEAR, "last": MEETING_LAST_YEAR}
    if errors:
        raise ValidationError(errors)


def _touch(meeting: Meeting) -> None:
    """A change to a meeting's invitations or agenda is a change to the meeting: raise its version."""
    Meeting.objects.filter(pk=meeting.pk).update(version=F("version") + 1)
    meeting.refresh_from_db(fields=["version"])


def _lock_meeting(meeting: Meeting, expected_version: int | None = None) -> Meeting:
    locked: Meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    check_version(locked, expected_version)
    return locked


# --- meetings -----------------------------------------------------------------------------

@transaction.atomic
def meeting_create(
    *,
    actor: Reader | Actor,
    coalition: Coalition,
    title: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    kind: str = MeetingKind.MINISTERIAL,
    time_zone: str = "Europe/Brussels",
    place: str = "",
    chairs: Iterable[Country] = (),
    status: str = MeetingStatus.PLANNED,
    outcome_notes: str = "",
) -> Meeting:
    ensure_secretariat(actor)
    validate_meeting_times(starts_at, ends_at)
    meeting = Meeting(
        coalition=coalition, title=title.strip(), kind=kind, starts_at=starts_at, ends_at=ends_at,
        time_zone=time_zone, place=place.strip(), status=status, outcome_notes=outcome_notes,
    )
    meeting.full_clean()
    chair_list = validate_chairs(coalition, chairs)
    with history_context(actor, "meeting_create"):
        meeting.save()
        meeting.chairs.set(chair_list)
    return meeting


@transaction.atomic
def meeting_update(
    *, actor: Reader | Actor, meeting: Meeting, expected_version: int | None = None, **changes: Any
) -> Meeting:
    """Change a meeting's fields (and chairs); `expected_version` guards against lost updates."""
    ensure_secretariat(actor)
    unknown = set(changes) - MEETING_EDITABLE_FIELDS
    if unknown:
        raise ValidationError({field: _("This field cannot be changed here.") for field in sorted(unknown)})
    locked = _lock_meeting(meeting, expected_version)
    chairs = changes.pop("chairs", None)
    changed = {k: v for k, v in changes.items() if getattr(locked, k) != v}
    chair_list = None
    if chairs is not None:
        chair_list = validate_chairs(locked.coalition, chairs)
        if {c.pk for c in chair_list} == set(locked.chairs.values_list("pk", flat=True)):
            chair_list = None
    if not changed and chair_list is None:
        return locked
    for field, value in changed.items():
        setattr(locked, field, value.strip() if field in ("title", "place") else value)
    validate_meeting_times(locked.starts_at, locked.ends_at)
    locked.full_clean()
    locked.version += 1
    with history_context(actor, "meeting_update"):
        locked.save()
        if chair_list is not None:
            locked.chairs.set(chair_list)
    return locked


@transaction.atomic
def meeting_outcome_record(
    *, actor: Reader | Actor, meeting: Meeting, outcome_notes: str, held: bool = True,
    expected_version: int | None = None,
) -> Meeting:
    """Write the outcome notes (and, by default, mark the meeting held)."""
    changes: dict[str, Any] = {"outcome_notes": outcome_notes.strip()}
    if held:
        changes["status"] = MeetingStatus.HELD
    return meeting_update(actor=actor, meeting=meeting, expected_version=expected_version, **changes)


# --- invitations --------------------------------------------------------------------------

@transaction.atomic
def invitation_set(
    *,
    actor: Reader | Actor,
    meeting: Meeting,
    country: Country,
    status: str = InvitationStatus.INVITED,
    head_of_delegation: str = "",
    level: str = "",
) -> Invitation:
    """Invite a country, or change its answer, head of delegation or level."""
    ensure_secretariat(actor)
    locked = _lock_meeting(meeting)
    if status not in InvitationStatus.values:
        raise ValidationError(
            {"status": _("Choose one of %(choices)s.") % {"choices": ", ".join(InvitationStatus.values)}})
    if level and level not in DelegationLevel.values:
        raise ValidationError(
            {"level": _("Choose one of %(choices)s.") % {"choices": ", ".join(DelegationLevel.values)}})
    if status == InvitationStatus.ATTENDED and locked.starts_at > timezone.now():
        raise ValidationError({"status": _("A country cannot have attended a meeting that has not started.")})
    invitation = Invitation.objects.filter(meeting=locked, country=country).first() or Invitation(
        meeting=locked, country=country
    )
    new_values = {"status": status, "head_of_delegation": head_of_delegation.strip(), "level": level}
    if invitation.pk and all(getattr(invitation, k) == v for k, v in new_values.items()):
        return invitation
    for field, value in new_values.items():
        setattr(invitation, field, value)
    invitation.full_clean()
    with history_context(actor, "invitation_set"):
        invitation.save()
        _touch(locked)
    return invitation


@transaction.atomic
def invitation_remove(*, actor: Reader | Actor, invitation: Invitation) -> None:
    ensure_secretariat(actor)
    locked = _lock_meeting(invitation.meeting)
    with history_context(actor, "invitation_remove"):
        Invitation.objects.filter(pk=invitation.pk).delete()
        _touch(locked)


# --- agenda -------------------------------------------------------------------------------

def _agenda_length(meeting: Meeting) -> int:
    return int(AgendaItem.objects.filter(meeting=meeting).aggregate(n=Max("position"))["n"] or 0)


@transaction.atomic
def agenda_item_add(
    *, actor: Reader | Actor, meeting: Meeting, title: str, description: str = "", position: int | None = None
) -> AgendaItem:
    """Add an item at `position` (1 = first; default: last); the items from there move down one."""
    ensure_secretariat(actor)
    locked = _lock_meeting(meeting)
    last = _agenda_length(locked)
    if position is None:
        position = last + 1
    if not 1 <= position <= last + 1:
        raise ValidationError({"position": _("Choose a position from 1 to %(last)s.") % {"last": last + 1}})
    item = AgendaItem(meeting=locked, position=position, title=title.strip(), description=description.strip())
    item.full_clean(exclude=["position"], validate_unique=False, validate_constraints=False)
    with history_context(actor, "agenda_item_add"):
        AgendaItem.objects.filter(meeting=locked, position__gte=position).update(position=F("position") + 1)
        item.save()
        _touch(locked)
    return item


@transaction.atomic
def agenda_item_update(*, actor: Reader | Actor, item: AgendaItem, title: str, description: str = "") -> AgendaItem:
    ensure_secretariat(actor)
    locked_meeting = _lock_meeting(item.meeting)
    locked: AgendaItem = AgendaItem.objects.select_for_update().get(pk=item.pk)
    if locked.title == title.strip() and locked.description == description.strip():
        return locked
    locked.title, locked.description = title.strip(), description.strip()
    locked.full_clean(validate_unique=False, validate_constraints=False)
    with history_context(actor, "agenda_item_update"):
        locked.save(update_fields=["title", "description"])
        _touch(locked_meeting)
    return locked


@transaction.atomic
def agenda_item_move(*, actor: Reader | Actor, item: AgendaItem, position: int) -> AgendaItem:
    """Move an item to `position`; the items in between shift by one (the constraint is deferred)."""
    ensure_secretariat(actor)
    locked_meeting = _lock_meeting(item.meeting)
    locked: AgendaItem = AgendaItem.objects.select_for_update().get(pk=item.pk)
    last = _agenda_length(locked_meeting)
    if not 1 <= position <= last:
        raise ValidationError({"position": _("Choose a position from 1 to %(last)s.") % {"last": last}})
    old = locked.position
    if position == old:
        return locked
    others = AgendaItem.objects.filter(meeting=locked_meeting).exclude(pk=locked.pk)
    with history_context(actor, "agenda_item_move"):
        if position < old:
            others.filter(position__gte=position, position__lt=old).update(position=F("position") + 1)
        else:
            others.filter(position__gt=old, position__lte=position).update(position=F("position") - 1)
        locked.position = position
        locked.save(update_fields=["position"])
        _touch(locked_meeting)
    return locked


@transaction.atomic
def agenda_item_remove(*, actor: Reader | Actor, item: AgendaItem) -> None:
    ensure_secretariat(actor)
    locked_meeting = _lock_meeting(item.meeting)
    position = AgendaItem.objects.filter(pk=item.pk).values_list("position", flat=True).first()
    if position is None:
        return
    with history_context(actor, "agenda_item_remove"):
        AgendaItem.objects.filter(pk=item.pk).delete()
        AgendaItem.objects.filter(meeting=locked_meeting, position__gt=position).update(position=F("position") - 1)
        _touch(locked_meeting)


# --- briefs -------------------------------------------------------------------------------

@transaction.atomic
def brief_request(*, actor: Reader | Actor | None, meeting: Meeting, system: bool = False, queue: bool = True,
                  language: str | None = None) -> Brief:
    """Create the next numbered brief of a meeting, queued, with its data as of now; compile it after commit
    (meetings.briefs.pipeline).

    `system=True` is the scheduler or a command (no user; the coalition's default language unless told);
    `queue=False` leaves the compiling to the caller (manage.py compile_brief runs it in the foreground).
    """
    if system and language is None:
        language = meeting.coalition.default_language
    language = brief_language(language, actor)
    if not system:
        ensure_may_request_brief(actor)
    return brief_create(meeting=meeting, language=language, requested_by=actor, queue=queue)
