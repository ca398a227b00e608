"""Answers kept in Redis per data version and reader: an HTTP answer cache any API view can use.

A view that knows its answer depends only on the data, the reader, the address and the clock mixes in
`KeptAnswers` and names its data clock (`answer_clock`: the data version, and how long an answer holds without a
write). The same answer asked again by the same reader is read back instead of computed, and a client that sends
its ETag in If-None-Match gets a 304 without a body.

No reader can fill Redis with them: an answer's address holds only the parameters its endpoint reads, in one order
(`answer_address`: an unknown or repeated parameter is computed and never kept, so it cannot make a new entry), an
answer that takes more than settings.KEPT_ANSWER_MAX_BYTES in Redis (answers from COMPRESS_FROM_BYTES on are kept
compressed) is not kept, and every entry has a time to live, so a Redis
bounded with `maxmemory` and `volatile-lru` (coalition.embedded, docker-compose.yml) evicts kept answers first and
never the Celery broker's messages, which have none. An answer is stored only when the data did not move while it
was computed (the version read before and after agree).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import zlib
from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, cast
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse, HttpResponseBase, HttpResponseNotModified
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.http import parse_etags
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

if TYPE_CHECKING:
    # The user model, whichever AUTH_USER_MODEL names (django-stubs resolves the alias): utilities stands below
    # accounts and does not import it.
    from django.contrib.auth.models import _User as UserModel

Version = tuple[Any, ...]
LONGEST = dt.timedelta(minutes=5)  # no answer is kept longer than this
COMPRESS_FROM_BYTES = 32 * 1024  # answers from this size on are kept compressed


class DataClock(Protocol):
    """What kept answers depend on besides the request: the data's version (None while another writer is open:
    then nothing is kept or read back) and how long, from now, an answer about one scope (a coalition; None: all)
    computed at a moment holds without a write."""

    def version(self) -> Version | None: ...

    def lifetime(self, scope: int | None, computed_at: dt.datetime, version: Version | None) -> dt.timedelta: ...


def keep(key: str, value: Any, *, clock: DataClock, version: Version, scope: int | None,
         computed_at: dt.datetime) -> None:
    """Keep `value`, computed as of `computed_at` at `version`, if the data is still at that version and the
    answer holds another second."""
    if clock.version() != version:
        return
    seconds = clock.lifetime(scope, computed_at, version).total_seconds()
    if seconds >= 1:
        cache.set(key, value, timeout=int(seconds))


def answer_address(base: str, query: Iterable[tuple[str, list[str]]], reads: Collection[str]) -> str | None:
    """Where an answer is kept: `base` (scheme, host and path) and the query's parameters sorted by name. None
    when the query holds a parameter the endpoint does not read (`reads`), or one twice: such an answer is
    computed and never kept, so made-up parameters cannot add entries of an answer already kept."""
    pairs: list[tuple[str, str]] = []
    for name, values in sorted(query):
        if name not in reads or len(values) != 1:
            return None
        pairs.append((name, values[0]))
    return f"{base}?{urlencode(pairs)}" if pairs else base


def answer_key(user: UserModel, address: str, language: str, media_type: str, version: Version) -> str:
    """The key of one reader's answer at one address (scheme, host, path and query), in one language and media
    type: everything the answer's bytes depend on besides the data and the clock. Who the reader is (id, role,
    country, superuser or not: what their rights follow from) is part of it, so an answer is only ever read back
    by the reader it was computed for, with the rights it was computed with."""
    reader = f"{user.pk}:{user.role}:{user.country_id}:{user.is_superuser}"
    digest = hashlib.sha256(
        "\n".join([reader, address, language, media_type, *map(str, version)]).encode()).hexdigest()
    return f"answer:{digest}"


class KeptAnswers:
    """Live GET answers kept per data version and reader, with an ETag; the view names its `answer_clock`.

    A view calls `kept_answer()` once it knows the request may be answered live, with the query parameters it
    reads: the same answer asked again by the same reader (the same parameters, in any order) is read back
    instead of computed, and a client that sends its ETag in If-None-Match gets a 304 without a body. A query
    with any other parameter (or one twice) is computed and never kept. The answer is kept (in
    finalize_response) only if it is a 200 of at most settings.KEPT_ANSWER_MAX_BYTES and the data did not change
    while it was computed. `Cache-Control: private, no-cache`: no shared cache keeps it, and a browser asks
    again each time (a 304 when nothing changed).
    """

    answer_clock: ClassVar[DataClock]
    # what is being kept: key, data version, moment computed, and the scope (a coalition) whose data decides how
    # long it holds (None: all)
    _keeping: tuple[str, Version, dt.datetime, int | None] | None = None

    def kept_answer(self, request: Request, *, reads: Collection[str],
                    scope: int | None = None) -> HttpResponseBase | None:
        """The answer kept for this request (or a 304), or None: compute it, and it is kept as it goes out if its
        query has only parameters of `reads`, each once."""
        address = answer_address(request.build_absolute_uri(request.path), request.query_params.lists(),
                                 {*reads, api_settings.URL_FORMAT_OVERRIDE})
        if address is None:
            return None
        version = self.answer_clock.version()
        if version is None:
            return None
        # The view's permissions ran first (utilities.api.ApiPermission): only a signed-in user comes this far.
        key = answer_key(cast("UserModel", request.user), address, translation.get_language(),
                         request.accepted_media_type, version)
        entry = cache.get(key)
        if entry is None:
            self._keeping = (key, version, timezone.now(), scope)
            return None
        etag, content_type, stored, *compressed = entry  # entries kept before compression have three parts
        body = zlib.decompress(stored) if compressed and compressed[0] else stored
        tags = parse_etags(request.headers.get("If-None-Match", ""))
        answer = HttpResponseNotModified() if etag in tags or "*" in tags \
            else HttpResponse(body, content_type=content_type)
        return self._private(answer, etag)

    @staticmethod
    def _private(response: HttpResponseBase, etag: str) -> HttpResponseBase:
        response["ETag"] = etag
        patch_cache_control(response, private=True, no_cache=True)
        patch_vary_headers(response, ["Accept", "Authorization", "Cookie", "Accept-Language"])
        return response

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        if self._keeping is None or response.status_code != status.HTTP_200_OK or not isinstance(response, Response):
            return response
        key, version, computed_at, scope = self._keeping
        response.render()
        # A large answer is kept compressed (zlib's fastest level: a map of 90,000 pledge ids, 414 KB, is 173 KB in
        # 4 ms), and the bound is on what Redis holds.
        compressed = len(response.content) >= COMPRESS_FROM_BYTES
        stored = zlib.compress(response.content, 1) if compressed else response.content
        if len(stored) > settings.KEPT_ANSWER_MAX_BYTES:
            return response  # sent, not kept: Redis holds many small answers, not a few readers' largest
        # Of the bytes as well as the key: the same address at the same data version answers differently once an
        # offer has turned stale or a tranche overdue, and a client holding the earlier answer must not get a 304.
        etag = '"' + hashlib.sha256(key.encode() + response.content).hexdigest()[:40] + '"'
        keep(key, (etag, response["Content-Type"], stored, compressed), clock=self.answer_clock, version=version,
             scope=scope, computed_at=computed_at)
        return self._private(response, etag)
