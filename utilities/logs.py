"""Logs as one JSON object per line (LOG_FORMAT=json, settings.LOGGING), each with the request's id.

RequestIdMiddleware gives every request an id: the X-Request-ID it came with when that looks like one (a proxy's
or a load balancer's, so one request is followed across them), a new one otherwise; the answer carries it back in
X-Request-ID, and every log line written while the request is answered names it. Nothing here imports Django at
the top: gunicorn's master formats its own lines with JsonFormatter too (coalition/gunicorn.conf.py).
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
WELL_FORMED = re.compile(r"[A-Za-z0-9._:-]{1,128}")


class RequestIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = str(request.META.get("HTTP_X_REQUEST_ID", ""))
        request_id = given if WELL_FORMED.fullmatch(given) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        token = REQUEST_ID.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            REQUEST_ID.reset(token)
        response["X-Request-ID"] = request_id
        return response


class JsonFormatter(logging.Formatter):
    """timestamp (UTC, ISO 8601), level, logger, message, request_id while a request is answered, and the
    traceback (exception) when there is one: one line each, whatever the message holds."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": dt.datetime.fromtimestamp(record.created, tz=dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or REQUEST_ID.get()
        if request_id:
            entry["request_id"] = request_id
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def logging_config(log_format: str, level: str) -> dict[str, Any]:
    """settings.LOGGING: plain lines, or JSON lines when `log_format` is "json"."""
    handler: dict[str, Any] = {"class": "logging.StreamHandler"}
    config: dict[str, Any] = {"version": 1, "disable_existing_loggers": False, "handlers": {"console": handler},
                              "root": {"handlers": ["console"], "level": level}}
    if log_format == "json":
        config["formatters"] = {"json": {"()": "utilities.logs.JsonFormatter"}}
        handler["formatter"] = "json"
        # Django's own loggers write plain lines of their own (DEBUG, runserver): here they go through the root's.
        config["loggers"] = {name: {"handlers": [], "propagate": True} for name in ("django", "django.server")}
        logging.captureWarnings(True)  # a Python warning is a line of the log too (logger py.warnings), not raw text
    return config
