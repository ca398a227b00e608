from __future__ import annotations

from celery import shared_task

from accounts.models import User
from imports import services
from imports.models import Import, ImportStatus


@shared_task(acks_late=True, ignore_result=True)
def apply_import_task(import_id: int, user_id: int) -> str:
    """Apply a long import (queued by services.import_queue); its progress goes to the cache for GET to show.
    Safe to run twice: an applied import is answered as it is, a failed one is left failed."""
    imported = Import.objects.filter(pk=import_id).first()
    if imported is None or imported.status != ImportStatus.APPLYING:
        return "nothing to do"
    user = User.objects.select_related("country").get(pk=user_id)
    try:
        services.import_apply(actor=user, import_id=import_id, progress=services.progress_in_cache(import_id))
    except services.ImportRefused as refused:
        services.import_mark_failed(import_id=import_id, error=services.refusal_text(refused.rows))
        return "refused"
    except Exception as error:
        services.import_mark_failed(import_id=import_id, error=f"{type(error).__name__}: {error}")
        raise
    return "applied"


@shared_task(acks_late=True, ignore_result=True)
def preview_import_task(import_id: int, user_id: int) -> str:
    """Preview a long import (queued by services.import_preview), with its progress in the cache."""
    user = User.objects.select_related("country").get(pk=user_id)
    try:
        services.import_preview_run(actor=user, import_id=import_id, progress=services.progress_in_cache(import_id))
    except Exception as error:
        services.import_mark_failed(import_id=import_id, error=f"{type(error).__name__}: {error}")
        raise
    return "previewed"
