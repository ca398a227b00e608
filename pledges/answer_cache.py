"""The pledges' data clock for kept answers (utilities.kept_answers), and the live force picture kept per reader.

A key holds the data version: the newest history row of pledges, caveats, tranches, requirements and conditions
(every write to them writes one, triggers included, so no write path is missed), a sequence of reference data
(categories, units, memberships, coalitions, countries, places) raised by signals, and the database's own oid
(a database made again starts its ids again). All of it is read from PostgreSQL in one query: Redis holds only
what can be computed again, so losing it never brings an earlier version back. So a write is seen by the next
read, on any process. The force picture is kept per kind of reader (every analyst, secretariat member and
administrator sees the same offered pledges; ministry staff see their own country's and the released ones of the
coalitions their country is in); an API answer per user, address and language (utilities.kept_answers).

Two things keep that honest:
- a history id is given when a row is written, not when it commits: while another transaction that has written
  is open, a row with a smaller id may still appear, so then nothing is read from or written to the cache
  (pg_stat_activity shows a session's transaction id only to the same database user or to pg_read_all_stats:
  every process that writes — web, worker, beat, manage.py — connects as the one DATABASE_URL user);
- stale and overdue amounts change with the clock, not with writes: an entry lives until the next moment an offer
  turns stale, the next midnight (tranches turn overdue by the day) or five minutes, whichever is first.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from accounts.roles import Reader, is_ministry, sees_all_offered
from places.models import Place
from pledges.models import CapabilityCategory, CategoryUnit, Coalition, Country, Membership, Unit
from pledges.staleness import next_stale_moment
from utilities.kept_answers import LONGEST, Version, keep

VERSION_SQL = "SELECT * FROM pledges_data_version()"  # migration pledges/0018


def reader_kind(user: Reader) -> str:
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


class PledgeData:
    """The data clock of the pledges' kept answers (utilities.kept_answers.DataClock): the data version, and how
    long an answer about a coalition holds."""

    def version(self) -> Version | None:
        return data_version()

    def lifetime(self, scope: int | None, computed_at: dt.datetime, version: Version | None) -> dt.timedelta:
        return lifetime(scope, computed_at, version)


PLEDGE_DATA = PledgeData()


def cached_picture(coalition: Coalition, user: Reader, compute: Callable[[], Any]) -> Any:
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
    keep(key, picture, clock=PLEDGE_DATA, version=before, scope=coalition.pk, computed_at=now)
    return picture


def _reference_changed(**_kwargs: Any) -> None:
    """Names of categories, units and places, which countries are members: in answers, but written without
    history. The sequence is raised inside the writer's transaction, which keeps the cache out of use until it
    ends; a rollback leaves it raised, which only costs a computation."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval('pledges_reference_version')")


for _model in (CapabilityCategory, Unit, CategoryUnit, Membership, Coalition, Country, Place):
    post_save.connect(_reference_changed, sender=_model, dispatch_uid=f"force-cache-{_model.__name__}")
    post_delete.connect(_reference_changed, sender=_model, dispatch_uid=f"force-cache-delete-{_model.__name__}")
