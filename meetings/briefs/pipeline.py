"""The brief pipeline: numbering and sending a brief, a worker's claim and heartbeat, compiling, the reaper and the
scheduler.

A brief is a row first (queued, numbered, its data as of the moment it was asked for), then a message to a Celery
worker (meetings.tasks) sent after commit. Who may ask for one, and in which language, is decided by
meetings.services.brief_request; the scheduler here asks in the coalition's language.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, cast

from django.core.exceptions import ValidationError
from django.db import DatabaseError, InterfaceError, OperationalError, connections, transaction
from django.db.models import Max, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.roles import Actor, Reader
from meetings.metrics import brief_finished
from meetings.models import BRIEF_LANGUAGES, Brief, BriefStatus, Meeting, MeetingStatus
from meetings.selectors import BRIEF_FILE_FIELDS, BRIEF_VIEWER
from pledges.history import CaveatEvent, PledgeEvent, RequirementEvent
from pledges.visibility import caveat_visibility_q, pledge_visibility_q
from utilities.queue import send_task

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)

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
# The workers' tasks (meetings.tasks), named here so that the pipeline queues one without importing it.
COMPILE_BRIEF_TASK = "meetings.tasks.compile_brief_task"
NOTIFY_BRIEF_READY_TASK = "meetings.tasks.notify_brief_ready"


# --- sending ------------------------------------------------------------------------------

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


# --- a new brief --------------------------------------------------------------------------

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
def brief_create(*, meeting: Meeting, language: str, requested_by: Reader | Actor | None = None,
                 queue: bool = True) -> Brief:
    """The meeting's next numbered brief, queued, with its data as of now; compiled after commit (`queue=False`
    leaves the compiling to the caller). The caller has checked who asks and the language."""
    # Numbers are handed out one at a time per meeting.
    locked: Meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
    number = int(Brief.objects.filter(meeting=locked).aggregate(n=Max("number"))["n"] or 0) + 1
    brief = Brief.objects.create(
        meeting=locked, number=number, as_of=timezone.now(), language=language,
        requested_by=cast("User", requested_by) if getattr(requested_by, "pk", None) else None,  # a User
    )
    if queue:
        _queue_compile(brief.pk)
    return brief


# --- a worker's compile -------------------------------------------------------------------

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
    # Imported here: the renderers load matplotlib and reportlab, which the web processes (they import this module
    # to queue briefs) never need.
    from meetings.briefs.pdf import render_pdf
    from meetings.briefs.snapshot import build_snapshot
    from meetings.briefs.xlsx import render_xlsx

    try:
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
    # The files and the snapshot as written, not read back: the snapshot alone is some 10 MB of JSON at 100,000
    # pledges, and reading the row back whole took 0.2-0.4 s.
    brief.refresh_from_db(fields=[field.attname for field in Brief._meta.concrete_fields
                                  if field.name not in BRIEF_FILE_FIELDS])
    brief.pdf, brief.xlsx, brief.snapshot = pdf, xlsx, snapshot
    return brief


# --- the reaper ---------------------------------------------------------------------------

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


# --- the scheduler ------------------------------------------------------------------------

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
    latest brief predates a change to the coalition's pledges, caveats or requirements. Each is in the
    coalition's default language, asked for by no one.
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
        queued.append(brief_create(meeting=meeting, language=brief_language(meeting.coalition.default_language)))
    return queued
