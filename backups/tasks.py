"""Celery task: thin caller of backups.services (scheduled when COALITION_BACKUP_DIR is set)."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from backups import services


@shared_task(acks_late=True, ignore_result=True)
def scheduled_backup() -> str | None:
    """Beat, every COALITION_BACKUP_INTERVAL seconds: a backup into COALITION_BACKUP_DIR, the newest
    COALITION_BACKUP_KEEP kept."""
    if not settings.BACKUP_DIR:
        return None
    path = services.scheduled_backup(settings.BACKUP_DIR, settings.BACKUP_KEEP, interval=settings.BACKUP_INTERVAL)
    return str(path) if path else None
