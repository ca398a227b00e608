"""Versioned records and the history of every write, for every app.

- `tracked`: a model's every insert, update and delete recorded by django-pghistory's triggers, each event naming
  who or what made it (the context is NOT NULL: the database refuses a write made outside any).
- `history_context` / `SystemActor` / `Author`: who acted, and how, on the history rows written in a block; a named
  actor for writes no person makes (the demo loader, the scheduler, a command).
- `check_version` / `StaleVersion`: a write that names the version it read (If-Match) changes nothing when the
  object has moved on since.
- `refuse_unknown_fields`, `lock_for_write`, `apply_changes`, `save_new_version`: the steps every update service
  takes, in this order (refuse what it does not change, lock the row, ask whether the writer may change it, compare
  the version, set what differs, save it as a new version with its history).
- `Step`, `steps`, `state_at`, `Version`, `versions_seen`: one object's history walked version by version, each
  shown from the moment it became visible to a reader (the rule of who sees which version is the caller's).
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import pghistory
import pgtrigger
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

M = TypeVar("M", bound=models.Model)


class StaleVersion(Exception):
    """The object changed since the client read it (a failed If-Match)."""

    def __init__(self, current_version: int) -> None:
        super().__init__(
            _("The object has changed since it was read (now version %(version)s).") % {"version": current_version})
        self.current_version = current_version


@dataclass(frozen=True)
class SystemActor:
    """A named actor that is not a person: the demo loader, the scheduler, a command. History names it."""

    username: str
    pk: None = None


SYSTEM = SystemActor("system")


class Author(Protocol):
    """Whoever a history row names: a user (accounts.roles.Actor) or a SystemActor."""

    @property
    def pk(self) -> Any: ...

    @property
    def username(self) -> str: ...


def history_context(actor: Author | None, action: str) -> pghistory.context:
    """Who acted, and how, on the history rows the triggers write in this block. Every write to a tracked
    model happens inside one (or inside a request, which HistoryMiddleware gives one): the database refuses
    history rows that name no one."""
    actor = actor or SYSTEM
    return pghistory.context(user=getattr(actor, "pk", None), username=getattr(actor, "username", "system"),
                             action=action)


def check_version(obj: Any, expected_version: int | None) -> None:
    if expected_version is not None and obj.version != expected_version:
        raise StaleVersion(obj.version)


# --- the steps of an update -------------------------------------------------------------------------

def refuse_unknown_fields(changes: Mapping[str, Any], editable: Collection[str]) -> None:
    """A field the write does not change is refused by name, before any row is locked."""
    if unknown := set(changes) - set(editable):
        raise ValidationError({field: _("This field cannot be changed here.") for field in sorted(unknown)})


def lock_for_write(rows: models.Manager[M] | QuerySet[M], pk: Any, *, expected_version: int | None,
                   may_change: Callable[[M], object] | None = None) -> M:
    """The row, locked until the transaction ends; then `may_change(row)` (raising PermissionDenied), then the
    version the writer read. In this order: the rights and the version are read from the row as it is now that no
    one else can move it, and a writer who may not change it is refused before learning it moved on."""
    locked = rows.select_for_update().get(pk=pk)
    if may_change is not None:
        may_change(locked)
    check_version(locked, expected_version)
    return locked


def apply_changes(obj: models.Model, changes: Mapping[str, Any], *, strip: Collection[str] = ()) -> dict[str, Any]:
    """Set the fields whose value differs from `obj`'s (those in `strip` without surrounding blanks) and return
    them as given: empty when the write changes nothing."""
    changed = {name: value for name, value in changes.items() if getattr(obj, name) != value}
    for name, value in changed.items():
        setattr(obj, name, value.strip() if name in strip else value)
    return changed


def next_version(obj: Any, stamp: Iterable[str] = ()) -> Any:
    """Number and date `obj` as its next version, changed now (`updated_at`, and the fields in `stamp` at the same
    moment), without saving it (save_new_version saves; a bulk write saves many at once)."""
    obj.version += 1
    obj.updated_at = timezone.now()
    for name in stamp:
        setattr(obj, name, obj.updated_at)
    return obj


def save_new_version(obj: Any, *, actor: Author | None, action: str, stamp: Iterable[str] = (),
                     update_fields: Iterable[str] | None = None) -> None:
    """Save `obj` as its next version, changed now (`updated_at`, and the fields in `stamp` at the same moment),
    the history rows naming `actor` and `action`."""
    next_version(obj, stamp)
    with history_context(actor, action):
        obj.save(update_fields=update_fields)


def tracked(model: type[models.Model]) -> Any:
    """pghistory.track for every insert, update and delete, each event naming who or what made it: the events'
    context is NOT NULL, so the database refuses a write made outside any context (no request user, no named
    system actor; see history_context).

    Each event also knows when the next one replaced it (`pgh_superseded_at`, set by a trigger as the next is
    written): the state at a moment is then the events made by it and not yet replaced, a filter on each row,
    which PostgreSQL answers fast whatever its statistics (pledges.history.state_as_of).
    """
    name = model.__name__.lower()
    return pghistory.track(
        pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent(),
        context_field=pghistory.ContextForeignKey(null=False),
        attrs={"pgh_superseded_at": models.DateTimeField(
            null=True, editable=False,
            help_text=gettext_lazy("When the next event replaced this one (empty: still current)."))},
        meta={
            "indexes": [models.Index(fields=["pgh_obj_id"], condition=Q(pgh_superseded_at__isnull=True),
                                     name=f"{name}event_current")],
            "triggers": [pgtrigger.Trigger(
                name="supersede_previous", when=pgtrigger.Before, operation=pgtrigger.Insert,
                func=pgtrigger.Func(
                    "UPDATE {meta.db_table} SET pgh_superseded_at = NEW.pgh_created_at "
                    "WHERE pgh_obj_id = NEW.pgh_obj_id AND pgh_superseded_at IS NULL; RETURN NEW;"
                ),
            )],
        },
    )(model)


# --- one object's versions --------------------------------------------------------------------------

@dataclass(frozen=True)
class Step:
    """An object from a moment on: its row (None: gone, or hidden from the reader) and the history rows
    written at that moment (one transaction's; the last of them is the row it left)."""

    when: dt.datetime
    row: Any
    events: tuple[Any, ...]


def steps(events: Iterable[Any]) -> list[Step]:
    """The object's state after each moment it changed. Events of one transaction share a moment: the last is
    the state it left (an intermediate row of a transaction was never current, nor visible to anyone)."""
    found: list[Step] = []
    for event in events:  # ordered by pgh_created_at, pgh_id
        row = None if event.pgh_label == "delete" else event
        if found and found[-1].when == event.pgh_created_at:
            found[-1] = Step(event.pgh_created_at, row, (*found[-1].events, event))
        else:
            found.append(Step(event.pgh_created_at, row, (event,)))
    return found


def state_at(walk: list[Step], moment: dt.datetime) -> Any:
    """The row an object had at `moment` (None: not yet made, or gone)."""
    index = bisect.bisect_right([step.when for step in walk], moment)
    return walk[index - 1].row if index else None


def events_of(event_model: Any, **where: Any) -> list[Any]:
    """History rows, with their context, in the order they were written."""
    return list(event_model.objects.filter(**where).select_related("pgh_context").order_by("pgh_created_at", "pgh_id"))


@dataclass(frozen=True)
class Version:
    """A version of an object as one reader saw it: the history row, when it became visible to them (when it
    was made, or later, when what hid it changed: a pledge offered, a text released), and the history rows
    of the transaction that made it (their actions: one save may update and move a pledge)."""

    row: Any
    shown_from: dt.datetime
    events: tuple[Any, ...]


def versions_seen(seen: list[Step]) -> list[Version]:
    """The versions in a walk as one reader saw it (hidden steps' rows are None), each from when it was shown."""
    versions: list[Version] = []
    shown: set[int] = set()
    for step in seen:
        row = step.row
        if row is not None and row.pgh_id not in shown:
            shown.add(row.pgh_id)
            made_by = step.events if row in step.events else (row,)
            versions.append(Version(row, step.when, made_by))
    return versions
