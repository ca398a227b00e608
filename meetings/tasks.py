"""Celery tasks: thin callers of the brief pipeline and the reminders. They take ids and are safe to run twice."""

from __future__ import annotations

from celery import shared_task
from celery.signals import worker_ready

from meetings import reminders
from meetings.briefs import pipeline


@shared_task(
    name=pipeline.COMPILE_BRIEF_TASK,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,  # the brief row is the result; sending then needs the broker only
    autoretry_for=pipeline.PASSING_FAULTS,
    retry_backoff=2,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=6,
)
def compile_brief_task(brief_id: int) -> int | None:
    """Compile one queued brief; a second delivery of the same message finds it taken or done."""
    brief = pipeline.brief_compile(brief_id=brief_id)
    return brief.pk if brief else None


@shared_task(acks_late=True, ignore_result=True, expires=60)
def reap_stale_briefs() -> dict[str, int]:
    """Beat (and every worker as it starts): queue again briefs whose worker died (or fail them after too many
    attempts), and send again those whose message was lost."""
    return pipeline.briefs_reap_stale()


@worker_ready.connect
def _reap_when_a_worker_starts(sender: object = None, **kwargs: object) -> None:
    """A worker that starts (first start, or after a crash or a Redis outage) picks up what waits at once."""
    reap_stale_briefs.apply_async(retry=False)


@shared_task(acks_late=True)
def queue_due_briefs() -> list[int]:
    """Beat: a brief for each planned meeting starting within 48 hours, and a fresh one after data changes."""
    return [brief.pk for brief in pipeline.briefs_queue_due()]


# A mail that fails does not fail these tasks: it is logged and left for the next run of send_reminders (beat,
# every 10 minutes), which also sends the brief-ready notices still owed (meetings.reminders). A database that
# went away for a moment does: the task is tried again.
@shared_task(acks_late=True, ignore_result=True, autoretry_for=pipeline.PASSING_FAULTS, retry_backoff=30,
             retry_backoff_max=600, max_retries=8)
def send_reminders() -> dict[str, int]:
    """Beat: reminders before planned meetings, and brief-ready notices still owed; each email once."""
    return reminders.reminders_send_due()


@shared_task(name=pipeline.NOTIFY_BRIEF_READY_TASK, acks_late=True, ignore_result=True,
             autoretry_for=pipeline.PASSING_FAULTS, retry_backoff=30, retry_backoff_max=600, max_retries=8)
def notify_brief_ready(brief_id: int) -> int:
    """Queued when a brief becomes ready: the secretariat is told, once each."""
    return reminders.brief_ready_notify(brief_id=brief_id)
