"""Celery task: thin caller of idempotency.services."""

from __future__ import annotations

from celery import shared_task

from idempotency import services


@shared_task(acks_late=True, ignore_result=True)
def purge_idempotent_requests() -> int:
    """Beat, hourly: forget answers older than a day."""
    return services.purge_expired()
