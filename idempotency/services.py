"""Idempotent retries (the `Idempotency-Key` convention of payment APIs), for every write of the API.

`begin` runs first in the write's transaction: it claims the key (a unique row) or finds the first answer.
A concurrent request with the same key waits on that row until the first commits, then replays its answer.
`finish` stores the answer before the transaction commits. Only successful answers are kept: a refused
write changed nothing, and its retry is judged afresh.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from idempotency.models import IdempotentRequest

KEPT_FOR = dt.timedelta(hours=24)
REPLAYED_HEADERS = ("ETag", "Location", "Content-Location")


class KeyReused(Exception):
    """The key was used by this user for a different request within KEPT_FOR."""


@dataclass(frozen=True)
class Answer:
    status_code: int
    body: Any
    headers: dict[str, str]


def fingerprint(method: str, path: str, body: bytes) -> str:
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def begin(*, user: Any, key: str, method: str, path: str, body: bytes) -> tuple[IdempotentRequest | None,
                                                                                   Answer | None]:
    """Claim `key` for this request, or return the answer given to it before. Call inside the write's
    transaction. Returns (claim, None) to go ahead, or (None, answer) to replay."""
    asked = fingerprint(method, path, body)
    IdempotentRequest.objects.filter(user=user, key=key, created_at__lt=timezone.now() - KEPT_FOR).delete()
    try:
        with transaction.atomic():
            claim = IdempotentRequest.objects.create(user=user, key=key, fingerprint=asked, method=method,
                                                     path=path[:2000])
        return claim, None
    except IntegrityError:  # the same key, committed by an earlier (or concurrent, now finished) request
        first = IdempotentRequest.objects.get(user=user, key=key)
    if first.fingerprint != asked:
        raise KeyReused()
    answer = None if first.body is None else json.loads(first.body)
    return None, Answer(int(first.status_code or 200), answer, dict(first.headers))


def finish(*, claim: IdempotentRequest, status_code: int, body: str | None, headers: dict[str, str]) -> None:
    """Keep a successful answer (`body`: the JSON text sent) with the write; forget the key of any other, so a
    retry is judged afresh."""
    if not 200 <= status_code < 300:
        claim.delete()
        return
    claim.status_code = status_code
    claim.body = body
    claim.headers = {name: value for name, value in headers.items() if name in REPLAYED_HEADERS}
    claim.save(update_fields=["status_code", "body", "headers"])


def purge_expired(*, now: dt.datetime | None = None) -> int:
    """Forget answers older than KEPT_FOR (beat, hourly)."""
    cutoff = (now or timezone.now()) - KEPT_FOR
    deleted, _ = IdempotentRequest.objects.filter(created_at__lt=cutoff).delete()
    return deleted
