"""Answers kept in Redis per data version: the live force picture, and the API's live answers (the pledge list
pages, the force picture and the map as sent), computed once and then read back until anything they depend on
changes.

A key holds the data version: the newest history row of pledges, caveats, tranches and requirements (every
write to them writes one, triggers included, so no write path is missed), a sequence of reference data
(categories, units, memberships, coalitions, countries, places) raised by signals, and the database's own oid
(a database made again starts its ids again). All of it is read from PostgreSQL in one query: Redis holds only
what can be computed again, so losing it never brings an earlier version back. So a write is seen by the next
read, on any process. The force picture is kept per kind of reader (every analyst, secretariat member and
administrator sees the same offered pledges; ministry staff see their own country's and the released ones of the
coalitions their country is in); an API answer per user, address and language (`answer_key`), so that nothing
kept for one reader is ever sent to another.

No reader can fill Redis with them: an answer's address holds only the parameters its endpoint reads, in one
order (`address`: an unknown or repeated parameter is computed and never kept, so it cannot make a new entry),
an answer larger than settings.KEPT_ANSWER_MAX_BYTES is not kept, and every entry has a time to live, so a Redis
bounded with `maxmemory` and `volatile-lru` (coalition.embedded, docker-compose.yml) evicts kept answers first
and never the Celery broker's messages, which have none.

Three things keep that honest:
- a history id is given when a row is written, not when it commits: while another transaction that has written
  is open, a row with a smaller id may still appear, so then nothing is read from or written to the cache
  (pg_stat_activity shows a session's transaction id only to the same database user or to pg_read_all_stats:
  every process that writes — web, worker, beat, manage.py — connects as the one DATABASE_URL user);
- the version is read before and after computing, and an answer is stored only when both agree;
- stale and overdue amounts change with the clock, not with writes: an entry lives until the next moment an offer
  turns stale, the next midnight (tranches turn overdue by the day) or five minutes, whichever is first.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Callable, Collection, Iterable
from typing import Any
from urllib.parse import urlencode

from django.core.cache import cache
from django.db import connection
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from places.models import Place
from pledges.models import CapabilityCategory, CategoryUnit, Coalition, Country, Membership, Unit
from pledges.visibility import is_ministry, sees_all_offered

Version = tuple[Any, ...]

LONGEST = dt.timedelta(minutes=5)
VERSION_SQL = "SELECT * FROM pledges_data_version()"  # migration pledges/0018


def reader_kind(user: Any) -> str:
    if is_ministry(user):
        return f"ministry-{user.country_id}"
    return "all-offered" if sees_all_offered(user) else "none"


def data_version() -> Version | None:
    """The data version, or None while another transaction that has written is open."""
    with connection.cursor() as cursor:
        cursor.execute(VERSION_SQL)
        *ids, writers = cursor.fetchone()
    if writers:
        return None
    return tuple(ids)


def _next_stale(coalition_id: int | None, moment: dt.datetime, version: Version | None) -> dt.datetime | None:
    """When the first offer of the coalition (None: of any) turns stale after `moment`; read once per data
    version, and again for a moment the kept answer does not cover."""
    key = f"next-stale:{coalition_id}:" + ":".join(map(str, version)) if version else None
    kept = cache.get(key) if key is not None else None
    if kept is not None:
        after, first = kept
        if after <= moment and (first is None or first > moment):  # nothing turns stale between
            return first
    # The staleness rule is the selectors' (which import this module for the force picture: hence here).
    from pledges.selectors import next_stale_moment

    first = next_stale_moment(after=moment, coalition_id=coalition_id)
    if key is not None:
        cache.set(key, (moment, first), timeout=int(LONGEST.total_seconds()))
    return first


def lifetime(coalition_id: int | None, moment: dt.datetime, version: Version | None = None) -> dt.timedelta:
    """How long, from now, an answer about one coalition (None: any) computed as of `moment` holds without a
    write: until the next offer turns stale after `moment`, the midnight after it, or LONGEST after it."""
    next_stale = _next_stale(coalition_id, moment, version)
    local = timezone.localtime(moment)
    midnight = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time.min, tzinfo=local.tzinfo)
    ends = min(midnight, moment + LONGEST, *([next_stale] if next_stale else []))
    return ends - timezone.now()


def store(key: str, value: Any, *, version: Version, coalition_id: int | None, computed_at: dt.datetime) -> None:
    """Keep `value`, computed as of `computed_at` at `version`, if the data is still at that version and the
    answer holds another second."""
    if data_version() != version:
        return
    seconds = lifetime(coalition_id, computed_at, version).total_seconds()
    if seconds >= 1:
        cache.set(key, value, timeout=int(seconds))


def cached_picture(coalition: Coalition, user: Any, compute: Callable[[], Any]) -> Any:
    """`compute()` (a live ForcePicture), or the one stored for the same coalition, kind of reader and data."""
    before = data_version()
    if before is None:
        return compute()
    key = f"force:{coalition.pk}:{reader_kind(user)}:" + ":".join(map(str, before))
    stored = cache.get(key)
    now = timezone.now()
    if stored is not None:
        return dataclasses.replace(stored, as_of=now)
    picture = compute()
    store(key, picture, version=before, coalition_id=coalition.pk, computed_at=now)
    return picture


def address(base: str, query: Iterable[tuple[str, list[str]]], reads: Collection[str]) -> str | None:
    """Where an answer is kept: `base` (scheme, host and path) and the query's parameters sorted by name. None
    when the query holds a parameter the endpoint does not read (`reads`), or one twice: such an answer is
    computed and never kept, so made-up parameters cannot add entries of an answer already kept."""
    pairs: list[tuple[str, str]] = []
    for name, values in sorted(query):
        if name not in reads or len(values) != 1:
            return None
        pairs.append((name, values[0]))
    return f"{base}?{urlencode(pairs)}" if pairs else base


def answer_key(user: Any, address: str, language: str, media_type: str, version: Version) -> str:
    """The key of one reader's answer at one address (scheme, host, path and query), in one language and media
    type: everything the answer's bytes depend on besides the data and the clock. Who the reader is (id, role,
    country, superuser or not: what their rights follow from) is part of it, so an answer is only ever read back
    by the reader it was computed for, with the rights it was computed with."""
    reader = f"{user.pk}:{user.role}:{user.country_id}:{user.is_superuser}"
    digest = hashlib.sha256(
        "\n".join([reader, address, language, media_type, *map(str, version)]).encode()).hexdigest()
    return f"answer:{digest}"


def _reference_changed(**_kwargs: Any) -> None:
    """Names of categories, units and places, which countries are members: in answers, but written without
    history. The sequence is raised inside the writer's transaction, which keeps the cache out of use until it
    ends; a rollback leaves it raised, which only costs a computation."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval('pledges_reference_version')")


for _model in (CapabilityCategory, Unit, CategoryUnit, Membership, Coalition, Country, Place):
    post_save.connect(_reference_changed, sender=_model, dispatch_uid=f"force-cache-{_model.__name__}")
    post_delete.connect(_reference_changed, sender=_model, dispatch_uid=f"force-cache-delete-{_model.__name__}")
