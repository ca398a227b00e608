"""Long imports, previewed and applied by a worker of the `imports` queue (settings.CELERY_TASK_ROUTES), each within
its time limits (settings.IMPORT_TIME_LIMIT, sent with the message): whatever stops one leaves it `failed`, saying
why, nothing changed."""

from __future__ import annotations

from typing import Any

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded, TimeLimitExceeded
from django.conf import settings
from django.db import connection
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User
from imports import services
from imports.models import Import, ImportStatus


class ImportTask(Task):  # type: ignore[misc]
    """Marks its import failed when it fails: on an error or at the soft time limit, in the process that ran it;
    at the hard limit Celery calls on_failure in the worker's main process before it kills the one running the
    import, which still holds the import's row: the mark is then sent as a task of its own, run once that lock is
    gone. The limits come with the message (services._queue)."""

    def on_failure(self, exc: Exception, task_id: str, args: tuple[Any, ...], kwargs: dict[str, Any],
                   einfo: Any) -> None:
        import_id, user_id = args
        if isinstance(exc, TimeLimitExceeded):
            mark_import_failed_task.delay(import_id, _too_long(user_id, exc.args[0] if exc.args else None))
            return
        if isinstance(exc, SoftTimeLimitExceeded):
            connection.close()  # a query the limit interrupted may have left the connection unusable
            error = _too_long(user_id, (getattr(self.request, "timelimit", None) or (None, None))[1])
        else:
            error = f"{type(exc).__name__}: {exc}"
        services.import_mark_failed(import_id=import_id, error=error)


def _too_long(user_id: int, limit: Any) -> str:
    """Why the import stopped, in its uploader's language."""
    seconds = int(float(limit)) if limit else settings.IMPORT_TIME_LIMIT
    user = User.objects.filter(pk=user_id).first()
    with translation.override(getattr(user, "preferred_language", "") or settings.LANGUAGE_CODE):
        return _("The import took longer than %(limit)s and was stopped; nothing was changed. Split the file into "
                 "smaller ones and upload them one by one.") % {"limit": _duration(seconds)}


def _duration(seconds: int) -> str:
    if seconds % 60 == 0:
        return ngettext("%(count)s minute", "%(count)s minutes", seconds // 60) % {"count": seconds // 60}
    return ngettext("%(count)s second", "%(count)s seconds", seconds) % {"count": seconds}


@shared_task(name=services.APPLY_TASK, base=ImportTask, acks_late=True, ignore_result=True)
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
    return "applied"


@shared_task(name=services.PREVIEW_TASK, base=ImportTask, acks_late=True, ignore_result=True)
def preview_import_task(import_id: int, user_id: int) -> str:
    """Preview a long import (queued by services.import_preview), with its progress in the cache."""
    user = User.objects.select_related("country").get(pk=user_id)
    services.import_preview_run(actor=user, import_id=import_id, progress=services.progress_in_cache(import_id))
    return "previewed"


@shared_task(acks_late=True, ignore_result=True)
def mark_import_failed_task(import_id: int, error: str) -> None:
    """An import whose process was killed at its hard time limit: failed, saying why."""
    services.import_mark_failed(import_id=import_id, error=error)
