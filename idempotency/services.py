"""Idempotent retries (the `Idempotency-Key` convention of payment APIs), for every write of the API.

`begin` runs first in the write's transaction: it claims the key (a unique row) or finds the first answer.
A concurrent request with the same key waits on that row until the first commits, then replays its answer.
`finish` stores the answer before the transaction commits. Only successful answers are kept: a refused
write changed nothing, and its retry is judged afresh.

A key is bound to what its request means, not to its bytes (`fingerprint`): the parsed body (JSON, or form
fields with each file's name and SHA-256), the method, the path and the query parameters, serialised one way
only. So key order and spacing in JSON, the order of form fields and the multipart boundary (new on most
clients' every retry) never make a retry "another request", and the raw body, which a multipart parser or
the CSRF check has already consumed, is never read again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.datastructures import MultiValueDict

from idempotency.models import IdempotentRequest

if TYPE_CHECKING:
    # The user model, whichever AUTH_USER_MODEL names (django-stubs resolves the alias): idempotency stands below
    # accounts and does not import it.
    from django.contrib.auth.models import _User as UserModel

KEPT_FOR = dt.timedelta(hours=24)
REPLAYED_HEADERS = ("ETag", "Location", "Content-Location")


class KeyReused(Exception):
    """The key was used by this user for a different request within KEPT_FOR."""


@dataclass(frozen=True)
class Answer:
    status_code: int
    body: Any
    headers: dict[str, str]


# Fingerprints stored before they were of meaning (migration 0002 marks them); kept KEPT_FOR at most, so this
# and `raw_fingerprint` can go a release after it.
RAW = "raw:"


def _file(upload: UploadedFile) -> dict[str, Any]:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)  # the view reads it next
    return {"file": upload.name, "sha256": digest.hexdigest(), "size": upload.size}


def _meaning(data: Any) -> Any:
    """A parsed body as plain JSON: form fields (with files) as lists per name, each file as its digest."""
    if isinstance(data, MultiValueDict):
        return {"form": {name: [_file(v) if isinstance(v, UploadedFile) else v for v in values]
                         for name, values in data.lists()}}
    return {"json": data}


def fingerprint(*, method: str, path: str, query: Mapping[str, list[str]], data: Any) -> str:
    """SHA-256 of what a request means: `data` is the parsed body (DRF's `request.data`: JSON values, or a
    QueryDict of form fields and files). Object keys sorted, no spacing, every non-ASCII character escaped."""
    meaning = {"method": method.upper(), "path": path, "query": {name: list(values) for name, values in query.items()},
               "body": _meaning(data)}
    text = json.dumps(meaning, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


def raw_fingerprint(method: str, path: str, body: bytes) -> str:
    """The fingerprint kept before 0002: of the method, the full path and the raw body."""
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


def begin(*, user: UserModel, key: str, method: str, path: str, asked: str,
          raw_body: bytes | None = None) -> tuple[IdempotentRequest | None, Answer | None]:
    """Claim `key` for this request (`asked`: its `fingerprint`; `path` the full path as asked), or return the
    answer given to it before. `raw_body`, where still readable, compares with an answer kept before 0002.
    Call inside the write's transaction. Returns (claim, None) to go ahead, or (None, answer) to replay."""
    IdempotentRequest.objects.filter(user=user, key=key, created_at__lt=timezone.now() - KEPT_FOR).delete()
    try:
        with transaction.atomic():
            claim = IdempotentRequest.objects.create(user=user, key=key, fingerprint=asked, method=method,
                                                     path=path[:2000])
        return claim, None
    except IntegrityError:  # the same key, committed by an earlier (or concurrent, now finished) request
        first = IdempotentRequest.objects.get(user=user, key=key)
    if first.fingerprint.startswith(RAW):
        if raw_body is None or first.fingerprint != RAW + raw_fingerprint(method, path, raw_body):
            raise KeyReused()
    elif first.fingerprint != asked:
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
