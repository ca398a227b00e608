"""Handing work to a Celery worker by the task's name.

Services queue tasks by name (the tasks call the services, never the other way round), so Celery does not know
the task's options when sending. Every task of ours keeps its result in a row (a brief, an import), none in the
result backend: sent without ``ignore_result``, Celery's Redis backend would subscribe to the result channel
first, and with Redis down the request would wait for its reconnection retries before failing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from celery import current_app


def send_task(name: str, args: Sequence[Any], **options: Any) -> None:
    """Send one message to the broker; raises the transport's error when it cannot be sent."""
    current_app.send_task(name, args=list(args), ignore_result=True, **options)
