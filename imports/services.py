"""Preview and apply a pledge spreadsheet, with the same checks and writes as the pledge services.

A preview runs every row in a transaction that is then rolled back: the errors it shows are exactly the ones
applying would meet (a status move that is not allowed, a pledge changed since its version, a unit of another
category), and nothing is written but the Import record itself. Applying runs the stored rows again in one
transaction, under a history context naming the import: all rows or none. An import applied once answers its
result again; the same file cannot be applied twice for a country and coalition.

The rows are checked by the services' own checks (pledges.checks), with what those ask the database read once,
and written together (pledges.bulk): the same pledges, caveats and history as the services called row by row
(_run_rows), which run instead when the database refuses the bulk write or a file names a pledge twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple, cast

import pghistory
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DataError, IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.roles import Actor, Reader, is_ministry
from imports.metrics import import_finished
from imports.models import Import, ImportStatus, RowAction
from imports.reader import FileRefused, read_rows
from imports.rows import MAX_CAVEATS_PER_FILE, Lookups, PledgeRow, clean_row
from places.models import Place
from pledges import bulk
from pledges import services as pledge_services
from pledges.checks import known_for
from pledges.models import CapabilityCategory, Coalition, Pledge, Unit
from pledges.visibility import coalitions_visible_to, pledges_editable_by
from utilities.queue import send_task
from utilities.versioning import StaleVersion

if TYPE_CHECKING:
    from accounts.models import User
    from pledges.models import Country

    class MinistryUser(User):
        """A User of a country's ministry (whom ensure_may_import, or is_ministry, lets through): their country is
        set (accounts.models, user_country_iff_ministry)."""

        country: Country
        country_id: int

# The workers' tasks (imports.tasks), named here so that a service queues one without importing it.
PREVIEW_TASK = "imports.tasks.preview_import_task"
APPLY_TASK = "imports.tasks.apply_import_task"

logger = logging.getLogger(__name__)

QUEUED_ABOVE = 500  # rows: a longer import is applied by a Celery worker, with progress


class ImportRefused(Exception):
    """Applying met errors (rows changed meanwhile): nothing was applied. `rows` says which and why."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        super().__init__("Rows have errors; nothing was applied.")
        self.rows = rows


@dataclass
class Outcome:
    number: int
    action: str
    pledge: int | None = None
    changes: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"row": self.number, "action": self.action, "pledge": self.pledge, "changes": self.changes,
                "errors": self.errors}


def imports_visible_to(user: Reader | Actor) -> QuerySet[Import]:
    """A country's imports are seen (and applied) by its own ministry staff only."""
    if not is_ministry(user):
        return Import.objects.none()
    return Import.objects.filter(country_id=user.country_id).select_related("country", "uploaded_by")


def progress_key(import_id: int) -> str:
    return f"imports:{import_id}:progress"


def progress_in_cache(import_id: int) -> Callable[[int], None]:
    """Where a worker leaves a long import's progress for GET /api/v1/imports/{id}/ to show."""
    return lambda percent: cache.set(progress_key(import_id), percent, timeout=3600)


def import_progress(import_id: int) -> int:
    return int(cache.get(progress_key(import_id), 0))


def ensure_may_import(actor: Reader | Actor, coalition: Coalition) -> None:
    if not is_ministry(actor):
        raise PermissionDenied(_("Only ministry staff import their country's pledges."))
    if not coalitions_visible_to(actor).filter(pk=coalition.pk).exists():
        raise PermissionDenied(_("Your country is not a member of this coalition."))


def import_preview(*, actor: Reader | Actor, coalition: Coalition, filename: str, data: bytes) -> Import:
    """Read the file and show what applying it would do; only the Import record is written. A file of more
    than QUEUED_ABOVE rows is read here (a bad file is refused at once) and previewed by a worker: the import
    is `previewing` until then (imports.tasks)."""
    ensure_may_import(actor, coalition)
    actor = cast("MinistryUser", actor)  # ensure_may_import let only ministry staff through
    digest = hashlib.sha256(data).hexdigest()
    earlier = Import.objects.filter(country_id=actor.country_id, coalition=coalition, digest=digest,
                                    status=ImportStatus.APPLIED).first()
    if earlier is not None:
        raise FileRefused(_("This very file was applied already (import #%(id)s of %(when)s): download a fresh "
                            "template to change these pledges again.") % {
            "id": earlier.pk, "when": date_format(timezone.localtime(earlier.applied_at), "j M Y H:i")})
    lookups = Lookups.load()
    rows = [clean_row(row, country=actor.country, coalition=coalition, lookups=lookups)
            for row in read_rows(filename, data)]
    caveats = sum(len(row.caveats) for row in rows)
    if caveats > MAX_CAVEATS_PER_FILE:  # each is a write: the file's work is kept within minutes
        raise FileRefused(_("The file adds %(count)s caveats; at most %(limit)s can be imported at once: split it "
                            "into several files.") % {"count": f"{caveats:,}", "limit": f"{MAX_CAVEATS_PER_FILE:,}"})
    imported = Import(coalition=coalition, country_id=actor.country_id, uploaded_by=actor, filename=filename[:255],
                      digest=digest, rows=[{"input": row.as_json()} for row in rows])
    if len(rows) > QUEUED_ABOVE:
        imported.status = ImportStatus.PREVIEWING
        imported.save()
        _queue(PREVIEW_TASK, imported.pk, actor.pk)
        return imported
    _record_preview(imported, actor, rows)
    imported.save()
    return imported


def import_preview_run(*, actor: Reader | Actor, import_id: int,
                       progress: Callable[[int], None] | None = None) -> Import:
    """The worker's half of a long preview: run the stored rows, keep what they would do."""
    with transaction.atomic():
        imported = Import.objects.select_for_update(of=("self",)).select_related("coalition").get(pk=import_id)
        if imported.status != ImportStatus.PREVIEWING:
            return imported
        _record_preview(imported, actor, [PledgeRow.from_json(entry["input"]) for entry in imported.rows],
                        progress=progress)
        imported.status = ImportStatus.PREVIEWED
        imported.save(update_fields=["status", "rows", "summary"])
        return imported


def _record_preview(imported: Import, actor: Reader | Actor, rows: list[PledgeRow],
                    progress: Callable[[int], None] | None = None) -> None:
    outcomes = _dry_run(actor, imported.coalition, rows, progress=progress)
    imported.rows = [{**outcome.as_json(), "input": row.as_json()} for row, outcome in zip(rows, outcomes,
                                                                                            strict=True)]
    imported.summary = _summary(outcomes)


def import_apply(*, actor: Reader | Actor, import_id: int, progress: Callable[[int], None] | None = None) -> Import:
    """Write every row of a previewed import, or none. Raises ImportRefused (nothing written) when a row fails."""
    started, outcome = time.monotonic(), "failed"
    try:
        imported = _apply(actor, import_id, progress)
        outcome = "applied"
        return imported
    except ImportRefused:
        outcome = "refused"
        raise
    except (PermissionDenied, ValidationError):
        outcome = ""  # the request refused (not its country's, not previewed): no import was tried
        raise
    finally:
        if outcome:
            import_finished(outcome, time.monotonic() - started)


def _apply(actor: Reader | Actor, import_id: int, progress: Callable[[int], None] | None) -> Import:
    with transaction.atomic():
        imported = Import.objects.select_for_update(of=("self",)).select_related("coalition").get(pk=import_id)
        if not imports_visible_to(actor).filter(pk=imported.pk).exists():
            raise PermissionDenied(_("Only the import's own country may apply it."))
        if imported.status == ImportStatus.APPLIED:
            return imported  # applying twice changes nothing more
        ensure_may_import(actor, imported.coalition)
        _ensure_previewed(imported)
        rows = [PledgeRow.from_json(entry["input"]) for entry in imported.rows]
        with pghistory.context(import_id=imported.pk, import_file=imported.filename):
            outcomes = _run(actor, imported.coalition, rows, progress=progress)
        failed = [outcome.as_json() for outcome in outcomes if outcome.action == RowAction.ERROR]
        if failed:
            transaction.set_rollback(True)
            raise ImportRefused(failed)
        imported.status, imported.applied_at = ImportStatus.APPLIED, timezone.now()
        imported.rows = [{**outcome.as_json(), "input": entry["input"]}
                         for outcome, entry in zip(outcomes, imported.rows, strict=True)]
        imported.summary = _summary(outcomes)
        imported.save(update_fields=["status", "applied_at", "rows", "summary"])
        return imported


def import_queue(*, actor: Reader | Actor, import_id: int) -> Import:
    """Hand a long import to a worker (imports.tasks): it is `applying` until the worker is done."""
    imported = Import.objects.select_for_update(of=("self",)).get(pk=import_id)
    ensure_may_import(actor, imported.coalition)
    actor = cast("MinistryUser", actor)  # ensure_may_import let only ministry staff through
    if imported.status in (ImportStatus.PREVIEWING, ImportStatus.PREVIEWED, ImportStatus.FAILED):
        _ensure_previewed(imported)
        imported.status, imported.error = ImportStatus.APPLYING, ""
        imported.save(update_fields=["status", "error"])
        _queue(APPLY_TASK, import_id, actor.pk)
    return imported


def _queue(task: str, import_id: int, actor_id: int) -> None:
    """Once committed, to a worker of the imports queue (settings.CELERY_TASK_ROUTES), within the time limits of
    the settings (the message carries them; imports.tasks.ImportTask marks the import failed past them). Sent by
    name: the tasks call these services, never the other way round."""
    transaction.on_commit(lambda: send_task(
        task, (import_id, actor_id), soft_time_limit=settings.IMPORT_TIME_LIMIT,
        time_limit=settings.IMPORT_HARD_TIME_LIMIT))


def _ensure_previewed(imported: Import) -> None:
    """Only what a whole preview showed is applied, and only when it showed no error."""
    if imported.status == ImportStatus.PREVIEWING:
        raise ValidationError({"status": _("The import is still being previewed; apply it once it is previewed.")})
    if not imported.summary:
        raise ValidationError({"status": _("The import's preview did not finish (%(why)s): nothing can be applied "
                                           "from it; upload the file again.") % {"why": imported.error}})
    if imported.summary.get("error"):
        raise ValidationError({"rows": _("Some rows have errors: correct the file and upload it again.")})


def import_mark_failed(*, import_id: int, error: str) -> None:
    """A worker's import that could not be written: nothing was applied; say why."""
    Import.objects.filter(pk=import_id).exclude(status=ImportStatus.APPLIED).update(
        status=ImportStatus.FAILED, error=error[:4000])


def refusal_text(rows: list[dict[str, Any]]) -> str:
    return "; ".join(_("row %(row)s: %(errors)s") % {"row": row["row"], "errors": " ".join(
        f"{name}: {' '.join(messages)}" for name, messages in row["errors"].items())} for row in rows)


def _summary(outcomes: list[Outcome]) -> dict[str, int]:
    counts = Counter(outcome.action for outcome in outcomes)
    return {action: counts.get(action, 0) for action in RowAction.values}


class _DryRun(Exception):
    pass


def _dry_run(actor: Reader | Actor, coalition: Coalition, rows: list[PledgeRow],
             progress: Callable[[int], None] | None = None) -> list[Outcome]:
    outcomes: list[Outcome] = []
    try:
        with transaction.atomic():
            outcomes = _run(actor, coalition, rows, progress=progress)
            raise _DryRun
    except _DryRun:
        pass
    return outcomes


def _run(actor: Reader | Actor, coalition: Coalition, rows: list[PledgeRow],
         progress: Callable[[int], None] | None = None) -> list[Outcome]:
    """Every row checked as the pledge services check it, what they ask the database read once, then the rows
    that pass written together (pledges.bulk): a row that fails is left out, with its errors. A file that names a
    pledge twice (the later row then meets the earlier one's write), or whose bulk write the database refuses (a
    constraint only it knows), runs row by row through the services instead (_run_rows), which name the row."""
    if len({row.pledge_id for row in rows if row.pledge_id}) < sum(1 for row in rows if row.pledge_id):
        return _run_rows(actor, coalition, rows, progress=progress)
    try:
        with transaction.atomic():
            return _run_bulk(actor, coalition, rows, progress=progress)
    except (IntegrityError, DataError):
        logger.warning("import: the database refused the bulk write; running the rows one by one", exc_info=True)
        return _run_rows(actor, coalition, rows, progress=progress)


def _run_bulk(actor: Reader | Actor, coalition: Coalition, rows: list[PledgeRow],
              progress: Callable[[int], None] | None = None) -> list[Outcome]:
    editable, refs = _references(actor, coalition, rows)
    outcomes = [Outcome(number=row.number, action=RowAction.ERROR, pledge=row.pledge_id, errors=dict(row.errors))
                for row in rows]
    plans: list[_Plan | None] = [None] * len(rows)
    for index, (row, outcome) in enumerate(zip(rows, outcomes, strict=True)):
        if not row.errors:
            try:
                plans[index] = _plan(coalition, row, editable, refs, outcome)
            except ValidationError as problem:
                outcome.action, outcome.errors = RowAction.ERROR, _messages(problem)
    locked = bulk.lock_pledges((plan.pledge.pk for plan in plans if plan is not None and plan.pledge is not None),
                               read=editable)
    known = known_for(records=[getattr(actor, "country", None), coalition, *refs.categories.values(),
                               *refs.units.values(), *refs.places.values(), *locked.values()], pledge_ids=locked)
    writes: list[bulk.RowWrites] = []
    for index, (row, plan, outcome) in enumerate(zip(rows, plans, outcomes, strict=True)):
        if progress is not None and index % 100 == 99:  # the checks: about the first half of the work
            progress(int(50 * (index + 1) / len(rows)))
        if plan is None:
            continue
        try:
            if plan.pledge is not None and plan.pledge.pk not in locked:  # deleted since it was read
                raise _not_yours(plan.pledge.pk, coalition)
            if plan.pledge is None:
                written = bulk.plan_create(actor=actor, known=known, coalition=coalition, status=row.status,
                                           caveats=plan.caveats, **plan.values)
            else:
                written = bulk.plan_update(actor=actor, known=known, locked=locked[plan.pledge.pk],
                                           expected_version=row.version, changes=plan.changes, to_status=row.status,
                                           caveats=plan.caveats)
        except (ValidationError, PermissionDenied, StaleVersion) as problem:
            outcome.action, outcome.errors = RowAction.ERROR, _messages(problem)
            continue
        writes.append(written)
        plans[index] = plan._replace(written=written)
    bulk.write_rows(actor, writes)
    for plan, outcome in zip(plans, outcomes, strict=True):
        if plan is not None and plan.written is not None and plan.written.created is not None:
            outcome.pledge = plan.written.created.pk
    return outcomes


def _run_rows(actor: Reader | Actor, coalition: Coalition, rows: list[PledgeRow],
              progress: Callable[[int], None] | None = None) -> list[Outcome]:
    """Each row through the services in a savepoint of its own; a row that fails leaves nothing behind."""
    editable, refs = _references(actor, coalition, rows)
    outcomes = []
    for index, row in enumerate(rows):
        outcome = Outcome(number=row.number, action=RowAction.ERROR, pledge=row.pledge_id, errors=dict(row.errors))
        if not row.errors:
            try:
                with transaction.atomic():
                    plan = _plan(coalition, row, editable, refs, outcome)
                    if plan is not None:
                        _write(actor, coalition, row, plan, outcome)
            except (ValidationError, PermissionDenied, StaleVersion) as problem:
                outcome.action, outcome.errors, outcome.pledge = RowAction.ERROR, _messages(problem), row.pledge_id
        outcomes.append(outcome)
        if progress is not None and index % 100 == 99:
            progress(int(100 * (index + 1) / len(rows)))
    return outcomes


@dataclass
class References:
    """What the rows' ids name, read once per run."""

    categories: dict[int, CapabilityCategory]
    units: dict[int, Unit]
    places: dict[int, Place]


def _references(actor: Reader | Actor, coalition: Coalition, rows: list[PledgeRow]) -> tuple[dict[int, Pledge],
                                                                                               References]:
    """The pledges the rows name that the actor may change (with their caveats), and the records their ids name."""
    editable = {p.pk: p for p in pledges_editable_by(actor).filter(
        coalition=coalition, pk__in=[row.pledge_id for row in rows if row.pledge_id]).select_related(
        "place").prefetch_related("caveats")}
    refs = References(
        categories={c.pk: c for c in CapabilityCategory.objects.all()},
        units={u.pk: u for u in Unit.objects.all()},
        places=Place.objects.in_bulk({row.fields["place_id"] for row in rows if row.fields.get("place_id")}),
    )
    return editable, refs


def _service_values(row: PledgeRow, refs: References) -> dict[str, Any]:
    values = dict(row.fields)
    if "category_id" in values:
        values["category"] = refs.categories[values.pop("category_id")]
    if "unit_id" in values:
        values["unit"] = refs.units[values.pop("unit_id")]
    if "place_id" in values:
        place_id = values.pop("place_id")
        values["place"] = None if place_id is None else refs.places.get(place_id)
    for name in ("available_from", "available_until"):
        if values.get(name):
            values[name] = dt.date.fromisoformat(values[name])
    if values.get("estimated_value_eur") is not None:
        values["estimated_value_eur"] = Decimal(values["estimated_value_eur"])
    return values


def _not_yours(pledge_id: int, coalition: Coalition) -> ValidationError:
    return ValidationError({"id": _("Pledge %(id)s is not one of your country's pledges in %(coalition)s; leave the "
                                    "id empty to add a new pledge.") % {"id": pledge_id,
                                                                        "coalition": coalition.short_name}})


class _Plan(NamedTuple):
    """What a row asks of the pledge services: a new pledge (`pledge` None) with `values`, or changes to `pledge`
    (then its status moved to the row's, if it differs); and the caveats to add."""

    values: dict[str, Any]
    pledge: Pledge | None
    changes: dict[str, Any]
    caveats: list[tuple[str, str]]
    written: bulk.RowWrites | None = None


def _plan(coalition: Coalition, row: PledgeRow, editable: dict[int, Pledge], refs: References,
          outcome: Outcome) -> _Plan | None:
    """What the row would do, said in `outcome` (its action and changes); None when it changes nothing."""
    values = _service_values(row, refs)
    if row.pledge_id is None:
        outcome.action = RowAction.CREATE
        return _Plan(values, None, {}, list(row.caveats))
    found = editable.get(row.pledge_id)
    if found is None:
        raise _not_yours(row.pledge_id, coalition)
    pledge = found
    if pledge.version != row.version:
        raise ValidationError({"version": _("Pledge %(id)s was changed since this file was made (version %(then)s, "
                                            "now %(now)s): download a fresh template.") % {
            "id": pledge.pk, "then": row.version, "now": pledge.version}})
    changes = {name: value for name, value in values.items() if getattr(pledge, name) != value}
    outcome.changes = {name: {"before": _shown(getattr(pledge, name)), "after": _shown(value)}
                       for name, value in changes.items()}
    if row.status != pledge.status:
        outcome.changes["status"] = {"before": pledge.status, "after": row.status}
    active = {(c.kind, c.text) for c in pledge.caveats.all() if c.is_active}
    new_caveats = [(kind, text) for kind, text in row.caveats if (kind, text) not in active]
    if new_caveats:
        outcome.changes["caveats"] = {"before": None, "after": [f"{kind}: {text}" for kind, text in new_caveats]}
    if not outcome.changes:
        outcome.action = RowAction.UNCHANGED
        return None
    outcome.action = RowAction.UPDATE
    return _Plan(values, pledge, changes, new_caveats)


def _write(actor: Reader | Actor, coalition: Coalition, row: PledgeRow, plan: _Plan, outcome: Outcome) -> None:
    """The row's writes, one service call after another."""
    if plan.pledge is None:
        pledge = pledge_services.pledge_create(actor=actor, coalition=coalition, status=row.status, **plan.values)
        outcome.pledge = pledge.pk
    else:
        pledge = plan.pledge
        if plan.changes:
            pledge = pledge_services.pledge_update(actor=actor, pledge=pledge, expected_version=row.version,
                                                   **plan.changes)
        if row.status != pledge.status:
            pledge = pledge_services.pledge_transition(actor=actor, pledge=pledge, to_status=row.status,
                                                       expected_version=pledge.version)
    for kind, text in plan.caveats:
        pledge_services.caveat_add(actor=actor, pledge=pledge, kind=kind, text=text)


def _shown(value: Any) -> Any:
    if isinstance(value, CapabilityCategory | Unit):
        return value.code
    if isinstance(value, Place):
        return value.pk
    if isinstance(value, dt.date | Decimal):
        return str(value)
    return value


def _messages(problem: Exception) -> dict[str, list[str]]:
    if isinstance(problem, ValidationError) and hasattr(problem, "error_dict"):
        return {name: [str(m) for m in messages] for name, messages in problem.message_dict.items()}
    if isinstance(problem, StaleVersion):
        return {"version": [str(problem)]}
    return {"row": [str(getattr(problem, "message", None) or problem)]}

