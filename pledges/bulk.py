"""Many pledge writes of one actor at once (the rows of an import): each row checked as its services check it
(pledges.checks, with what they ask the database read once into `Known`), then every row written with a few
bulk statements instead of one service call after another.

A row's writes are the ones the services would make, in their order: pledge_create then caveat_add for each of
its caveats, or pledge_update, pledge_transition and caveat_add. Each is written as its service writes it (the
same fields, the version raised as save_new_version raises it, under `history_context` with the service's
action), so the history triggers record the same events. A row whose checks fail raises as its service would
and writes nothing. The database keeps its constraints on the bulk statements: one it refuses (IntegrityError)
is for the caller to redo row by row through the services, which name the row.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any

from django.db import models

from accounts.roles import Actor, Reader
from pledges.checks import (
    RECONFIRMING_STATUSES,
    Known,
    caveat_new,
    own_country,
    pledge_changes,
    pledge_move,
    pledge_new,
)
from pledges.models import Caveat, Coalition, Pledge
from pledges.services import PLEDGE_EDITABLE_FIELDS
from utilities.versioning import check_version, history_context, next_version, refuse_unknown_fields

BATCH = 500  # rows a statement: well under PostgreSQL's 65,535 parameters, with every field of a pledge
PLEDGE_FIELDS = [f.name for f in Pledge._meta.concrete_fields if not f.primary_key]  # what save() writes
MOVED_FIELDS = ["status", "version", "updated_at", "reconfirmed_at"]  # what pledge_transition writes
RELATED = ("country", "coalition", "category", "unit", "place")


@dataclass
class RowWrites:
    """One row's writes, checked and not yet made."""

    created: Pledge | None = None  # as pledge_create saves it
    updated: Pledge | None = None  # as pledge_update saves it
    moved: Pledge | None = None  # as pledge_transition then saves it
    caveats: list[Caveat] = field(default_factory=list)  # as caveat_add saves each

    @property
    def pledge(self) -> Pledge | None:
        return self.moved or self.updated or self.created

    def __bool__(self) -> bool:
        return bool(self.created or self.updated or self.moved or self.caveats)


def lock_pledges(ids: Iterable[int], *, read: Mapping[int, Pledge]) -> dict[int, Pledge]:
    """The pledges that rows change, locked until the transaction ends (as lock_for_write locks each), in the
    order of their ids, so that two imports wait for each other rather than deadlock. Their country, coalition,
    category, unit and place are taken from the same pledges `read` before, where they are still the same."""
    locked = {p.pk: p for p in Pledge.objects.select_for_update().filter(pk__in=set(ids)).order_by("pk")}
    for pk, pledge in locked.items():
        earlier = read.get(pk)
        if earlier is None:
            continue
        for name in RELATED:
            field = Pledge._meta.get_field(name)
            assert isinstance(field, models.ForeignKey)
            if getattr(pledge, field.attname) == getattr(earlier, field.attname) and field.is_cached(earlier):
                field.set_cached_value(pledge, field.get_cached_value(earlier))
    return locked


def plan_create(*, actor: Reader | Actor, known: Known, coalition: Coalition, status: str,
                caveats: Sequence[tuple[str, str]], **values: Any) -> RowWrites:
    """pledge_create's checks, then caveat_add's for each caveat of the new pledge."""
    pledge = pledge_new(actor=actor, coalition=coalition, status=status, known=known, **values)
    return RowWrites(created=pledge, caveats=[caveat_new(actor=actor, pledge=pledge, kind=kind, text=text,
                                                         known=known) for kind, text in caveats])


def plan_update(*, actor: Reader | Actor, known: Known, locked: Pledge, expected_version: int | None,
                changes: dict[str, Any], to_status: str, caveats: Sequence[tuple[str, str]]) -> RowWrites:
    """pledge_update's checks when there are `changes`, pledge_transition's when `to_status` is not the status it
    then has, and caveat_add's for each caveat, on a pledge lock_pledges locked (left as it is: a row that fails
    changes nothing)."""
    may_change = own_country(actor)
    writes, pledge = RowWrites(), locked
    if changes:
        refuse_unknown_fields(changes, PLEDGE_EDITABLE_FIELDS)
        pledge = _locked_copy(pledge, may_change, expected_version)
        if pledge_changes(actor, pledge, changes, known=known):
            writes.updated = next_version(pledge)
    if to_status != pledge.status:
        pledge = _locked_copy(pledge, may_change, pledge.version)
        pledge_move(pledge, to_status)
        writes.moved = next_version(pledge, stamp=["reconfirmed_at"] if to_status in RECONFIRMING_STATUSES else [])
    writes.caveats = [caveat_new(actor=actor, pledge=pledge, kind=kind, text=text, known=known)
                      for kind, text in caveats]
    return writes


def _locked_copy(pledge: Pledge, may_change: Callable[[Pledge], object] | None,
                 expected_version: int | None) -> Pledge:
    """lock_for_write's checks on a locked pledge (may the actor change it, is it the version they read), and a
    copy of it to change, so that each write keeps the state it saves."""
    if may_change is not None:
        may_change(pledge)
    check_version(pledge, expected_version)
    return copy.copy(pledge)


def write_rows(actor: Reader | Actor, rows: Iterable[RowWrites]) -> None:
    """Make the rows' writes: the pledges created, updated and moved, then the caveats, one statement a kind and
    a batch, each under history_context(actor, the action of its service). The last row's writes come last, on
    their own: within an import's history context, which its writes share, the action the context names at the
    end is then that of the last write, as when the services write row by row."""
    writing = [row for row in rows if row]
    if not writing:
        return
    _write(actor, writing[:-1])
    _write(actor, writing[-1:])


def _write(actor: Reader | Actor, rows: list[RowWrites]) -> None:
    if created := [row.created for row in rows if row.created is not None]:
        with history_context(actor, "pledge_create"):
            Pledge.objects.bulk_create(created, batch_size=BATCH)
    if updated := [row.updated for row in rows if row.updated is not None]:
        with history_context(actor, "pledge_update"):
            Pledge.objects.bulk_update(updated, PLEDGE_FIELDS, batch_size=BATCH)
    moved = sorted((row.moved for row in rows if row.moved is not None), key=lambda pledge: pledge.status)
    for status, pledges in groupby(moved, key=lambda pledge: pledge.status):
        with history_context(actor, f"pledge_{status}"):
            Pledge.objects.bulk_update(list(pledges), MOVED_FIELDS, batch_size=BATCH)
    if caveats := [caveat for row in rows for caveat in row.caveats]:
        with history_context(actor, "caveat_add"):
            Caveat.objects.bulk_create(caveats, batch_size=BATCH)
