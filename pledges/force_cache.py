"""The live force picture kept in Redis per data version: computed once, then read by every reader of the same
kind until anything it depends on changes.

The key holds the coalition, the kind of reader (every analyst, secretariat member and administrator sees the same
offered pledges; ministry staff see their own country's and the released ones of the coalitions their country is
in) and the data version: the newest history row of pledges, caveats, tranches and requirements (every write to
them writes one, triggers included, so no write path is missed), a counter of reference data (categories,
units, memberships), bumped by signals, and the database's own oid (a database made again starts its ids again).
So a write is seen by the next read, on any process.

Three things keep that honest:
- a history id is given when a row is written, not when it commits: while another transaction that has written
  is open, a row with a smaller id may still appear, so then nothing is read from or written to the cache;
- the version is read before and after computing, and the picture is stored only when both agree;
- stale and overdue amounts change with the clock, not with writes: an entry lives until the next moment an offer
  turns stale, the next midnight (tranches turn overdue by the day) or five minutes, whichever is first.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.db import connection
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from pledges.models import CapabilityCategory, CategoryUnit, Coalition, Country, Membership, Unit
from pledges.visibility import is_ministry, sees_all_offered

logger = logging.getLogger(__name__)

LONGEST = dt.timedelta(minutes=5)
REFERENCE_KEY = "force:reference-version"
VERSION_SQL = """
SELECT (SELECT oid FROM pg_database WHERE datname = current_database()),
       (SELECT max(pgh_id) FROM pledges_pledgeevent), (SELECT max(pgh_id) FROM pledges_caveatevent),
       (SELECT max(pgh_id) FROM pledges_deliveryevent), (SELECT max(pgh_id) FROM pledges_requirementevent),
       EXISTS (SELECT 1 FROM pg_stat_activity WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid()
               AND datname = current_database())
"""
NEXT_STALE_SQL = """
SELECT min(p.reconfirmed_at + c.reconfirm_days * interval '1 day')
FROM pledges_pledge p JOIN pledges_coalition c ON c.id = p.coalition_id
WHERE p.coalition_id = %s AND p.status IN ('indicative', 'confirmed', 'deployed')
  AND p.reconfirmed_at + c.reconfirm_days * interval '1 day' > now()
"""


def reader_kind(user: Any) -> str:
    if is_ministry(user):
        return f"ministry-{user.country_id}"
    return "all-offered" if sees_all_offered(user) else "none"


def _version() -> tuple[Any, ...] | None:
    """The data version, or None while another transaction that has written is open."""
    with connection.cursor() as cursor:
        # pg_stat_activity is read once per transaction unless told otherwise: a request's second look (and a
        # long transaction's) must see the transactions open now.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(VERSION_SQL)
        *ids, writers = cursor.fetchone()
    if writers:
        return None
    return (*ids, cache.get(REFERENCE_KEY, 0))


def _lifetime(coalition_id: int, now: dt.datetime) -> dt.timedelta:
    with connection.cursor() as cursor:
        cursor.execute(NEXT_STALE_SQL, [coalition_id])
        next_stale = cursor.fetchone()[0]
    local = timezone.localtime(now)
    midnight = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time.min, tzinfo=local.tzinfo)
    ends = min(midnight, now + LONGEST, *([next_stale] if next_stale else []))
    return ends - now


def cached_picture(coalition: Coalition, user: Any, compute: Callable[[], Any]) -> Any:
    """`compute()` (a live ForcePicture), or the one stored for the same coalition, kind of reader and data."""
    before = _version()
    if before is None:
        return compute()
    key = f"force:{coalition.pk}:{reader_kind(user)}:" + ":".join(map(str, before))
    stored = cache.get(key)
    now = timezone.now()
    if stored is not None:
        return dataclasses.replace(stored, as_of=now)
    picture = compute()
    if _version() == before:
        lifetime = _lifetime(coalition.pk, now).total_seconds()
        if lifetime >= 1:
            cache.set(key, picture, timeout=int(lifetime))
    return picture


def _reference_changed(**_kwargs: Any) -> None:
    """Names of categories and units, which countries are members: in the picture, but written without history.
    With Redis unreachable the count is not raised; entries live five minutes at most."""
    try:
        cache.incr(REFERENCE_KEY)
    except ValueError:  # not there yet
        cache.set(REFERENCE_KEY, 1, timeout=None)
    except Exception as error:  # a cache failure must not fail the write that signalled it
        logger.warning("force cache: reference version not raised: %s", error)


for _model in (CapabilityCategory, Unit, CategoryUnit, Membership, Coalition, Country):
    post_save.connect(_reference_changed, sender=_model, dispatch_uid=f"force-cache-{_model.__name__}")
    post_delete.connect(_reference_changed, sender=_model, dispatch_uid=f"force-cache-delete-{_model.__name__}")
