"""Every write to meetings, invitations, the agenda and briefs.

Each service is keyword-only, runs in one transaction, checks that the actor is
the secretariat (pledges.visibility.ensure_secretariat), validates, and records
who acted in the history context. Compiling a brief is queued with
transaction.on_commit and runs in a Celery worker (meetings.tasks).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, InterfaceError, OperationalError, connections, transaction
from django.db.models import F, Max, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.roles import Actor, Reader
from meetings.metrics import brief_finished
from meetings.models import (
    BRIEF_LANGUAGES,
    AgendaItem,
    Brief,
    BriefStatus,
    DelegationLevel,
    Invitation,
    InvitationStatus,
    Meeting,
    MeetingKind,
    MeetingStatus,
)
from meetings.selectors import BRIEF_VIEWER, ensure_may_request_brief
from pledges.history import CaveatEvent, PledgeEvent, RequirementEvent
from pledges.models import Coalition, Country, Membership
from pledges.visibility import caveat_visibility_q, ensure_secretariat, pledge_visibility_q
from utilities.queue import send_task
from utilities.versioning import check_version, history_context

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)

MEETING_EDITABLE_FIELDS = frozenset({
    "title", "kind", "starts_at", "ends_at", "time_zone", "place", "status", "outcome_notes", "chairs",
})
# Faults that pass on their own (a database restart, a dropped connection): the task retries them.
PASSING_FAULTS: tuple[type[BaseException], ...] = (OperationalError, InterfaceError, ConnectionError)
# A compiling brief beats every HEARTBEAT_EVERY from a thread of its own, whatever the compile is doing; one
# silent for STALE_RUNNING_AFTER lost its worker. The reaper (beat, every REAP_EVERY, and whenever a worker
# starts) queues it again, and sends again a queued brief whose message may be lost (Redis restarted, or down
# when it was asked for) once it has waited RESEND_QUEUED_AFTER: a brief is back within a minute of its
# worker's death, and compiled within half a minute of Redis returning.
HEARTBEAT_EVERY = dt.timedelta(seconds=5)
STALE_RUNNING_AFTER = dt.timedelta(seconds=30)
RESEND_QUEUED_AFTER = dt.timedelta(seconds=15)
REAP_EVERY = dt.timedelta(seconds=10)
MAX_ATTEMPTS = 3
AUTO_BRIEF_WINDOW = dt.timedelta(hours=48)
AUTO_BRIEF_PAUSE_AFTER_FAILURE = dt.timedelta(minutes=30)
# The workers' tasks (meetings.tasks), named here so that a service queues one without importing it.
COMPILE_BRIEF_TASK = "meetings.tasks.compile_brief_task"
NOTIFY_BRIEF_READY_TASK = "meetings.tasks.notify_brief_ready"


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

def _send_compile(brief_id: int) -> None:
    """Note when, then hand the brief to a worker. In that order: noting it after sending held the row while a
    worker might already be claiming it, and a claim skips a row another transaction holds, so the brief waited
    for the reaper. With the broker down the request still succeeds: the brief stays queued in the database and
    the reaper sends it again once Redis is back."""
    try:
        Brief.objects.filter(pk=brief_id, status=BriefStatus.QUEUED).update(sent_at=timezone.now())
    except DatabaseError:  # the note only spares a resend
        logger.warning("brief %s: could not note when it was sent", brief_id)
    try:
        send_task(COMPILE_BRIEF_TASK, [brief_id], retry=False)
    except Exception:  # the broker's connection errors differ by transport; none may fail the request
        logger.warning("Could not queue brief %s (broker unreachable); the reaper will send it again.",
                       brief_id, exc_info=True)
        try:
            Brief.objects.filter(pk=brief_id, status=BriefStatus.QUEUED).update(sent_at=None)
        except DatabaseError:  # the reaper resends it once the note is old enough
            logger.warning("brief %s: not sent, and the note that it was could not be taken back", brief_id)


def _send_ready_notice(brief_id: int) -> None:
    """Queue the secretariat's email (meetings.reminders); a broker fault leaves it to the beat sweep."""
    try:
        send_task(NOTIFY_BRIEF_READY_TASK, [brief_id], retry=False)
    except Exception:  # the broker's errors differ by transport; the sweep sends what is owed
        logger.warning("brief %s: ready notice not queued (broker unreachable); beat will send it", brief_id)


def _queue_compile(brief_id: int) -> None:
    transaction.on_commit(lambda: _send_compile(brief_id))


def brief_language(language: str | None, actor: Reader | Actor | None = None) -> str:
    """"en" or "fr": the one asked for, else the actor's own (their preferred, else the request's), else English.
    Anything else is a ValidationError naming `language`."""
    if language is None:
        chosen = getattr(actor, "preferred_language", "") or translation.get_language() or "en"
        return "fr" if chosen.startswith("fr") else "en"
    if language not in dict(BRIEF_LANGUAGES):
        raise ValidationError({"language": _("A brief is written in English (en) or French (fr).")})
    return language


@transaction.atomic
def brief_request(*, actor: Reader | Actor | None, meeting: Meeting, system: bool = False, queue: bool = True,
                  language: str | None = None) -> Brief:
    """Create the next numbered brief of a meeting, queued, with its data as of now; compile it after commit.

    `system=True` is the scheduler or a command (no user; the coalition's default language unless told);
    `queue=False` leaves the compiling to the caller (manage.py compile_brief runs it in the foreground).
    """
    if system and language is None:
        language = meeting.coalition.default_language
    language = brief_language(language, actor)
    if not system:
        ensure_may_request_brief(actor)
    locked = _lock_meeting(meeting)  # numbers are handed out one at a time per meeting
    number = int(Brief.objects.filter(meeting=locked).aggregate(n=Max("number"))["n"] or 0) + 1
    brief = Brief.objects.create(
        meeting=locked, number=number, as_of=timezone.now(), language=language,
        requested_by=cast("User", actor) if getattr(actor, "pk", None) else None,  # only a User has a pk
    )
    if queue:
        _queue_compile(brief.pk)
    return brief


def _claim(brief_id: int) -> Brief | None:
    """Take a queued brief for this worker, or None when it is gone, taken, finished or failed."""
    with transaction.atomic():
        # OF self, and no ordering: a lock on the brief row only. Skipping rows another transaction holds is the
        # point; with a join (Brief's default ordering is by meeting) a request holding its meeting's lock
        # would make every worker skip the brief.
        brief = (
            Brief.objects.select_for_update(skip_locked=True, of=("self",)).defer("pdf", "xlsx", "snapshot")
            .filter(pk=brief_id).order_by().first()
        )
        if brief is None or brief.status != BriefStatus.QUEUED:
            return None
        now = timezone.now()
        brief.status, brief.progress, brief.error = BriefStatus.RUNNING, 1, ""
        brief.attempts += 1
        brief.started_at = brief.heartbeat_at = now
        brief.save(update_fields=["status", "progress", "error", "attempts", "started_at", "heartbeat_at"])
        return brief


def _mine(brief: Brief) -> Q:
    """This worker's claim on the brief: still running under the same attempt (not reaped meanwhile)."""
    return Q(pk=brief.pk, status=BriefStatus.RUNNING, attempts=brief.attempts)


def _test_delay() -> None:
    """Tests make a compile slow (to kill its worker mid-way); honoured only when settings.TESTING."""
    delay = os.environ.get("COALITION_BRIEF_TEST_DELAY")
    if settings.TESTING and delay:
        time.sleep(float(delay))


def brief_compile(*, brief_id: int) -> Brief | None:
    """Compile a queued brief: gather the figures as of brief.as_of, render the PDF and XLSX, store them.

    Safe to run twice and concurrently: only the run that claims the queued row
    works, and it writes its result only while its claim still holds. Returns
    the brief when this run compiled it, else None.
    """
    brief = _claim(brief_id)
    if brief is None:
        logger.info("brief %s: nothing to do (gone, taken or finished)", brief_id)
        return None

    def progress(percent: int) -> None:
        Brief.objects.filter(_mine(brief)).update(progress=percent, heartbeat_at=timezone.now())

    started = time.monotonic()
    with _heartbeat(brief):
        compiled = _compile_claimed(brief, progress)
    if compiled is not None:
        brief_finished("ready", time.monotonic() - started)
    elif Brief.objects.filter(pk=brief.pk, attempts=brief.attempts, status=BriefStatus.FAILED).exists():
        brief_finished("failed", time.monotonic() - started)  # not one whose claim was lost: another run's
    return compiled


@contextmanager
def _heartbeat(brief: Brief) -> Iterator[None]:
    """Beat for the brief from a thread of its own (its own connection) while the compile runs: a long PDF
    render gives no progress for a while, and must not look like a dead worker."""
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(HEARTBEAT_EVERY.total_seconds()):
                try:
                    Brief.objects.filter(_mine(brief)).update(heartbeat_at=timezone.now())
                except DatabaseError:
                    logger.warning("brief %s: heartbeat not recorded (database unreachable)", brief.pk)
        finally:
            connections.close_all()

    thread = threading.Thread(target=beat, name=f"brief-{brief.pk}-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=HEARTBEAT_EVERY.total_seconds() * 2)


def _compile_claimed(brief: Brief, progress: Callable[[int], None]) -> Brief | None:
    from meetings.briefs.pdf import render_pdf
    from meetings.briefs.snapshot import build_snapshot
    from meetings.briefs.xlsx import render_xlsx

    try:
        _test_delay()
        with translation.override("fr" if brief.language == "fr" else "en-gb"):
            snapshot = build_snapshot(brief, on_progress=progress)
            progress(60)
            pdf = render_pdf(snapshot)
            progress(85)
            xlsx = render_xlsx(snapshot)
        progress(95)
        with transaction.atomic():
            done = Brief.objects.filter(_mine(brief)).update(
                status=BriefStatus.READY, progress=100, pdf=pdf, xlsx=xlsx, snapshot=snapshot,
                finished_at=timezone.now(), heartbeat_at=timezone.now(),
            )
    except PASSING_FAULTS:
        # Hand it back so the retry (or the reaper) can claim it again.
        try:
            Brief.objects.filter(_mine(brief)).update(status=BriefStatus.QUEUED, progress=0)
        except DatabaseError:
            logger.warning("brief %s: could not release after a passing fault; the reaper will", brief.pk)
        raise
    except Exception as exc:
        logger.exception("brief %s failed", brief.pk)
        Brief.objects.filter(_mine(brief)).update(
            status=BriefStatus.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000], finished_at=timezone.now()
        )
        return None
    if not done:
        logger.warning("brief %s: claim lost while compiling (reaped); result discarded", brief.pk)
        return None
    _send_ready_notice(brief.pk)
    brief.refresh_from_db()
    return brief


def briefs_reap_stale(
    *, running_after: dt.timedelta = STALE_RUNNING_AFTER, resend_after: dt.timedelta = RESEND_QUEUED_AFTER
) -> dict[str, int]:
    """No brief stays running or queued for ever: one whose worker stopped beating is queued again (or failed
    after MAX_ATTEMPTS); one queued whose message has not been taken within `resend_after` of its sending (or
    was never sent: the broker was down) is sent again. Sending twice is harmless: only one claim succeeds.
    Returns the counts."""
    now = timezone.now()
    counts = {"requeued": 0, "failed": 0, "resent": 0}
    with transaction.atomic():
        stale = list(
            Brief.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=BriefStatus.RUNNING, heartbeat_at__lt=now - running_after)
            .only("pk", "attempts", "status").order_by("pk")
        )
        for brief in stale:
            if brief.attempts >= MAX_ATTEMPTS:
                Brief.objects.filter(pk=brief.pk).update(
                    status=BriefStatus.FAILED, finished_at=now,
                    error=f"The worker stopped responding {brief.attempts} times; giving up.",
                )
                counts["failed"] += 1
            else:
                Brief.objects.filter(pk=brief.pk).update(
                    status=BriefStatus.QUEUED, progress=0, sent_at=None,
                    error="The worker stopped responding; queued again.",
                )
                _queue_compile(brief.pk)
                counts["requeued"] += 1
        waiting = Brief.objects.filter(status=BriefStatus.QUEUED).filter(
            Q(sent_at__isnull=True, created_at__lt=now - dt.timedelta(seconds=2)) | Q(sent_at__lt=now - resend_after)
        ).exclude(pk__in=[b.pk for b in stale])
        for brief_id in waiting.order_by("pk").values_list("pk", flat=True):
            _queue_compile(brief_id)
            counts["resent"] += 1
    return counts


def _data_changed_since(meeting: Meeting, moment: dt.datetime) -> bool:
    """Did anything a brief shows change? A country editing its drafts must not set off a new brief
    (a new version with the same figures would tell readers that someone is working on something)."""
    seen_in_a_brief = (
        PledgeEvent.objects.filter(pledge_visibility_q(BRIEF_VIEWER)),
        CaveatEvent.objects.filter(caveat_visibility_q(BRIEF_VIEWER)),
        RequirementEvent.objects.all(),
    )
    return any(
        events.filter(coalition_id=meeting.coalition_id, pgh_created_at__gt=moment).exists()
        for events in seen_in_a_brief
    )


def briefs_queue_due(*, window: dt.timedelta = AUTO_BRIEF_WINDOW, now: dt.datetime | None = None) -> list[Brief]:
    """Queue a brief for every planned meeting starting within `window` that has none yet, or whose
    latest brief predates a change to the coalition's pledges, caveats or requirements.
    """
    now = now or timezone.now()
    queued = []
    upcoming = Meeting.objects.filter(status=MeetingStatus.PLANNED, starts_at__gt=now, starts_at__lte=now + window)
    for meeting in upcoming:
        latest = Brief.objects.filter(meeting=meeting).defer("pdf", "xlsx", "snapshot").order_by("-number").first()
        if latest is not None:
            if latest.status in (BriefStatus.QUEUED, BriefStatus.RUNNING):
                continue
            if latest.status == BriefStatus.FAILED and latest.created_at > now - AUTO_BRIEF_PAUSE_AFTER_FAILURE:
                continue
            if latest.status == BriefStatus.READY and not _data_changed_since(meeting, latest.as_of):
                continue
        queued.append(brief_request(actor=None, meeting=meeting, system=True))
    return queued
