"""The bulk path of an import (pledges.bulk) against the services called row by row (imports.services._run_rows):
the same file leaves the same database (pledges and every field, caveats, history events with their context,
notifications), the same row-level answers and errors, and a bad row changes nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from imports import services
from imports.models import Import
from meetings.models import Notification
from pledges import bulk
from pledges.checks import ALLOWED_TRANSITIONS
from pledges.history import CaveatEvent, PledgeEvent
from pledges.models import Caveat, Pledge
from tests.conftest import World
from tests.factories import make_pledge
from tests.imports.helpers import workbook
from tests.imports.test_api import HEADER

PLEDGE_FIELDS = [f.attname for f in Pledge._meta.concrete_fields
                 if f.attname not in ("id", "relieves_id", "created_at", "updated_at", "reconfirmed_at")]
CAVEAT_FIELDS = [f.attname for f in Caveat._meta.concrete_fields
                 if f.attname not in ("id", "pledge_id", "created_at", "updated_at")]


@pytest.fixture
def mine(world: World) -> dict[str, Pledge]:
    """Poland's pledges in the coalition, in every status a file may start from."""
    def make(status: str, quantity: int, description: str, **fields: Any) -> Pledge:
        return make_pledge(country=world.pl, coalition=world.coalition, category=world.troops,
                           unit=world.personnel, quantity=quantity, status=status, description=description, **fields)
    return {"draft": make("draft", 4, "Draft"), "indicative": make("indicative", 50, "Offer"),
            "confirmed": make("confirmed", 1200, "Logistics", location="Rzeszów"),
            "withdrawn": make("withdrawn", 7, "Gone"), "same": make("indicative", 9, "Left as it is")}


def row(pledge: Pledge | None = None, **cells: Any) -> list[Any]:
    values = {"country": "PL", "category": "troops", "unit": "personnel", "quantity": 10, "status": "draft"}
    if pledge is not None:
        values |= {"id": pledge.pk, "version": pledge.version, "category": pledge.category.code,
                   "unit": pledge.unit.code, "quantity": pledge.quantity, "status": pledge.status,
                   "description": pledge.description, "location": pledge.location,
                   "releasability": pledge.releasability}
    values |= cells
    return [values.get(name) for name in HEADER]


def good_file(mine: dict[str, Pledge]) -> bytes:
    """New pledges (with caveats, dates, values), changes, status moves, both at once with a caveat, one row
    left as it is."""
    return workbook([HEADER,
                     row(quantity=11, description="Field hospital", location="Lublin",
                         available_from=dt.date(2026, 6, 1), available_until=dt.date(2026, 12, 31),
                         notice_to_move_days=10, estimated_value_eur="1250000.50", releasability="coalition",
                         caveats="condition: With a ceasefire.\nrole: Training only."),
                     row(quantity=12, status="indicative", description="Engineers"),
                     row(mine["draft"], quantity=5, description="Draft, more"),
                     row(mine["indicative"], status="confirmed"),
                     row(mine["confirmed"], quantity=1100, status="deployed", releasability="coalition",
                         caveats="geographic: Not east of the Vistula."),
                     row(mine["same"]),
                     row(quantity=13, status="indicative", caveats="duration: Six months at most.")])


def run(actor: Any, world: World, data: bytes, *, apply: bool) -> tuple[Any, ...]:
    """Preview the file (and apply it): what the import answered and the database after, in a transaction that
    is then rolled back."""
    with transaction.atomic():
        before = {"pledges": set(Pledge.objects.values_list("pk", flat=True)),
                  "pledge_events": PledgeEvent.objects.order_by("-pgh_id").values_list("pgh_id", flat=True).first(),
                  "caveat_events": CaveatEvent.objects.order_by("-pgh_id").values_list("pgh_id", flat=True).first()}
        imported = services.import_preview(actor=actor, coalition=world.coalition, filename="f.xlsx", data=data)
        answer = [(r["row"], r["action"], r["changes"], r["errors"], r["pledge"] in before["pledges"])
                  for r in imported.rows]
        result: tuple[Any, ...] = (answer, imported.summary)
        if apply:
            imported = services.import_apply(actor=actor, import_id=imported.pk)
            result = (answer, imported.summary, snapshot(before, imported))
        transaction.set_rollback(True)
    return result


def snapshot(before: dict[str, Any], imported: Import) -> dict[str, Any]:
    """Everything the import wrote, new pledges named by their order (their ids differ from run to run)."""
    new = sorted(set(Pledge.objects.values_list("pk", flat=True)) - before["pledges"])
    name = {pk: f"new {n}" for n, pk in enumerate(new)}

    def named(pk: int | None) -> Any:
        return name.get(pk, f"pledge {pk}") if pk is not None else None

    def context(metadata: dict[str, Any]) -> dict[str, Any]:
        assert metadata.get("import_id") in (None, imported.pk)
        return {**metadata, "import_id": "this import" if "import_id" in metadata else None}

    pledges = sorted([(named(p.pk), [getattr(p, f) for f in PLEDGE_FIELDS], p.reconfirmed_at is None,
                       p.updated_at > p.created_at) for p in Pledge.objects.all()], key=repr)
    caveats = sorted([(named(c.pledge_id), [getattr(c, f) for f in CAVEAT_FIELDS]) for c in Caveat.objects.all()],
                     key=repr)
    pledge_events = sorted([
        (named(e.pgh_obj_id), e.pgh_label, [getattr(e, f) for f in PLEDGE_FIELDS], e.pgh_superseded_at is None,
         sorted(context(e.pgh_context.metadata).items()))
        for e in PledgeEvent.objects.filter(pgh_id__gt=before["pledge_events"] or 0).select_related("pgh_context")],
        key=repr)
    caveat_events = sorted([
        (named(e.pledge_id), e.pgh_label, [getattr(e, f) for f in CAVEAT_FIELDS],
         sorted(context(e.pgh_context.metadata).items()))
        for e in CaveatEvent.objects.filter(pgh_id__gt=before["caveat_events"] or 0).select_related("pgh_context")],
        key=repr)
    contexts = {e.pgh_context_id for e in PledgeEvent.objects.filter(pgh_id__gt=before["pledge_events"] or 0)}
    return {"pledges": pledges, "caveats": caveats, "pledge_events": pledge_events, "caveat_events": caveat_events,
            "contexts": len(contexts), "notifications": Notification.objects.count(),
            "rows": [(r["row"], r["action"], named(r["pledge"]), r["changes"], r["errors"]) for r in imported.rows]}


@pytest.fixture
def row_by_row(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[bool], None]]:
    """Switch the import to the services called row by row (True) or back to its bulk path (False)."""
    bulk_run, rows_run = services._run, services._run_rows

    def switch(on: bool) -> None:
        monkeypatch.setattr(services, "_run", rows_run if on else bulk_run)
        # and the bulk path does not fall back to the rows one by one
        monkeypatch.setattr(services, "_run_rows", rows_run if on else lambda *args, **kwargs: pytest.fail(
            "ran row by row"))
    yield switch


def test_bulk_and_row_by_row_leave_the_same_database(world: World, mine: dict[str, Pledge],
                                                     row_by_row: Callable[[bool], None]) -> None:
    data = good_file(mine)
    row_by_row(True)
    one_by_one = run(world.ministry_pl, world, data, apply=True)
    row_by_row(False)
    together = run(world.ministry_pl, world, data, apply=True)
    assert together == one_by_one
    _answer, summary, written = together
    assert summary == {"create": 3, "update": 3, "unchanged": 1, "error": 0}
    assert written["contexts"] == 1  # one history context: the import's
    moved = [e for e in written["pledge_events"] if e[0] == f"pledge {mine['confirmed'].pk}"]
    assert [e[2][PLEDGE_FIELDS.index("version")] for e in moved] == [3, 4]  # changed, then deployed: two versions
    assert len(written["caveats"]) == len(Caveat.objects.all()) + 4


def test_bulk_and_row_by_row_answer_bad_rows_alike(world: World, mine: dict[str, Pledge],
                                                   row_by_row: Callable[[bool], None]) -> None:
    """Each check of the services, met by a row: the same errors, on the same rows, either way."""
    data = workbook([HEADER,
                     row(mine["draft"], status="confirmed"),  # draft -> confirmed: not a move
                     row(mine["withdrawn"], quantity=8),  # a withdrawn pledge is not changed
                     row(mine["confirmed"], status="withdrawn", caveats="role: Too late."),  # no caveat once withdrawn
                     row(mine["indicative"], version=mine["indicative"].version + 5),  # changed since
                     row(mine["same"], id=999_999, version=1),  # not theirs
                     row(quantity=3, status="confirmed"),  # a new pledge starts as draft or indicative
                     row(quantity=3, location="Two\tlines"),  # one line only
                     row(quantity=3, available_from=dt.date(2026, 5, 1), available_until=dt.date(2026, 4, 1)),
                     row(quantity=3, category="air", unit="aircraft", status="indicative"),  # fine
                     ])
    row_by_row(True)
    one_by_one = run(world.ministry_pl, world, data, apply=False)
    row_by_row(False)
    together = run(world.ministry_pl, world, data, apply=False)
    assert together == one_by_one
    errors = {number: errors for number, _action, _changes, errors, _known in together[0]}
    assert errors[2]["status"][0].startswith("A pledge cannot move from draft to confirmed")
    assert errors[3] == {"status": ["A withdrawn pledge cannot be changed."]}
    assert errors[4] == {"pledge": ["A withdrawn pledge takes no new caveats."]}
    assert list(errors[5]) == ["version"] and list(errors[6]) == ["id"]
    assert errors[7] == {"status": ["A new pledge starts as draft or indicative."]}
    assert "one line" in errors[8]["location"][0]
    assert list(errors[9]) == ["available_until"]
    assert errors[10] == {}


@pytest.mark.usefixtures("gazetteer")
def test_a_place_outside_the_theatre_is_the_same_error_either_way(world: World, mine: dict[str, Pledge],
                                                                  row_by_row: Callable[[bool], None]) -> None:
    world.coalition.theatre = ["UA", "PL"]
    world.coalition.save()
    data = workbook([HEADER, row(place=2988507), row(place=703448), row(mine["draft"], place=2988507)])
    row_by_row(True)
    one_by_one = run(world.ministry_pl, world, data, apply=False)
    row_by_row(False)
    together = run(world.ministry_pl, world, data, apply=False)
    assert together == one_by_one
    assert [list(errors) for *_, errors, _known in together[0]] == [["place"], [], ["place"]]


def test_a_row_that_fails_at_apply_writes_nothing_and_is_named(world: World, mine: dict[str, Pledge]) -> None:
    imported = services.import_preview(actor=world.ministry_pl, coalition=world.coalition, filename="f.xlsx",
                                       data=good_file(mine))
    assert imported.summary["error"] == 0
    from pledges import services as pledge_services
    pledge_services.pledge_update(actor=world.ministry_pl, pledge=mine["indicative"], quantity=51)  # meanwhile
    before = (sorted(Pledge.objects.values_list("pk", "version", "quantity", "status")), Caveat.objects.count(),
              PledgeEvent.objects.count(), CaveatEvent.objects.count())
    with pytest.raises(services.ImportRefused) as refused:
        services.import_apply(actor=world.ministry_pl, import_id=imported.pk)
    assert [(r["row"], list(r["errors"])) for r in refused.value.rows] == [(5, ["version"])]
    assert (sorted(Pledge.objects.values_list("pk", "version", "quantity", "status")), Caveat.objects.count(),
            PledgeEvent.objects.count(), CaveatEvent.objects.count()) == before


def test_what_only_the_database_refuses_runs_row_by_row_and_names_the_row(
        world: World, mine: dict[str, Pledge], monkeypatch: pytest.MonkeyPatch) -> None:
    """A rule only a constraint of the database keeps (here the availability order, its Python check taken
    away): the bulk write is refused, and the rows run through the services, which name the row."""
    monkeypatch.setattr(Pledge, "clean", lambda self: None)
    data = workbook([HEADER, row(quantity=3),
                     row(quantity=4, available_from=dt.date(2026, 5, 1), available_until=dt.date(2026, 4, 1))])
    imported = services.import_preview(actor=world.ministry_pl, coalition=world.coalition, filename="f.xlsx",
                                       data=data)
    assert [(r["row"], r["action"], list(r["errors"])) for r in imported.rows] == [
        (2, "create", []), (3, "error", ["__all__"])]


def test_a_pledge_named_twice_runs_row_by_row(world: World, mine: dict[str, Pledge],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    def no_bulk(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the bulk write ran")
    monkeypatch.setattr(bulk, "write_rows", no_bulk)
    data = workbook([HEADER, row(mine["draft"], quantity=5), row(mine["draft"], quantity=6)])
    imported = services.import_preview(actor=world.ministry_pl, coalition=world.coalition, filename="f.xlsx",
                                       data=data)
    assert [(r["action"], list(r["errors"])) for r in imported.rows] == [("update", []), ("error", ["version"])]


def test_the_bulk_write_refused_leaves_the_savepoint_clean(world: World, mine: dict[str, Pledge],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The database refusing the bulk write half way: what it wrote is undone before the rows run one by one."""
    imported = services.import_preview(actor=world.ministry_pl, coalition=world.coalition, filename="f.xlsx",
                                       data=good_file(mine))
    write_rows = bulk.write_rows

    def half(actor: Any, rows: Any) -> None:
        write_rows(actor, rows)
        raise IntegrityError("refused")
    monkeypatch.setattr(bulk, "write_rows", half)
    applied = services.import_apply(actor=world.ministry_pl, import_id=imported.pk)
    assert applied.summary == {"create": 3, "update": 3, "unchanged": 1, "error": 0}
    assert Pledge.objects.filter(country=world.pl, coalition=world.coalition).count() == len(mine) + 3
    assert Caveat.objects.filter(country=world.pl).count() == 4


def test_the_queries_do_not_grow_with_the_rows(world: World, mine: dict[str, Pledge]) -> None:
    """What the checks ask the database is read once: ten times the rows, the same queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(new_rows: int) -> int:
        data = workbook([HEADER, row(mine["draft"], quantity=5), row(mine["confirmed"], status="deployed",
                                                                     caveats="role: Training only."),
                         *(row(quantity=10 + n, status="indicative", caveats="duration: A year.")
                           for n in range(new_rows))])
        with transaction.atomic(), CaptureQueriesContext(connection) as captured:
            imported = services.import_preview(actor=world.ministry_pl, coalition=world.coalition,
                                               filename="f.xlsx", data=data)
            assert imported.summary["error"] == 0
            transaction.set_rollback(True)
        return len(captured)

    queries(1)  # warm: what a process reads once is left out
    assert queries(50) == queries(5)


STATUSES = ["draft", "indicative", "confirmed", "deployed", "withdrawn"]
CAVEATS = [None, "role: Training only.", "duration: A year.\ngeographic: Not east of the Vistula.", "other: x"]


@pytest.mark.property
@given(data=st.data())
@settings(max_examples=20, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_any_file_leaves_the_same_database_either_way(world: World, mine: dict[str, Pledge],
                                                      row_by_row: Callable[[bool], None], data: Any) -> None:
    """Whatever the rows ask (any status move, changes, caveats, new pledges good or bad), the bulk path and the
    services row by row answer the same; applied, they leave the same database."""
    valid = data.draw(st.booleans())  # only rows the services accept (then applied too), or any
    rows: list[list[Any]] = [HEADER]
    for name in data.draw(st.lists(st.sampled_from(sorted(mine)), unique=True, max_size=len(mine))):
        pledge = mine[name]
        if valid and pledge.status == "withdrawn":
            rows.append(row(pledge))
            continue
        status = data.draw(st.sampled_from(
            [pledge.status, *sorted(ALLOWED_TRANSITIONS[pledge.status])] if valid else STATUSES))
        rows.append(row(pledge, status=status, quantity=data.draw(st.sampled_from([pledge.quantity, 3, 2000])),
                        releasability=data.draw(st.sampled_from(["secretariat", "coalition"])),
                        caveats=None if valid and status == "withdrawn" else data.draw(st.sampled_from(CAVEATS))))
    for _n in range(data.draw(st.integers(1, 4))):
        rows.append(row(status=data.draw(st.sampled_from(["draft", "indicative"] if valid else STATUSES)),
                        quantity=data.draw(st.integers(1, 50)),
                        location=data.draw(st.sampled_from(["", "Lublin"] if valid else ["", "Lublin", "Two\tlines"])),
                        available_until=data.draw(st.sampled_from(  # from 2026-01-01: 2020 is before it
                            [None, dt.date(2030, 1, 1)] + ([] if valid else [dt.date(2020, 1, 1)]))),
                        available_from=dt.date(2026, 1, 1), caveats=data.draw(st.sampled_from(CAVEATS))))
    file = workbook(rows)
    row_by_row(True)
    one_by_one = run(world.ministry_pl, world, file, apply=False)
    row_by_row(False)
    assert run(world.ministry_pl, world, file, apply=False) == one_by_one
    assert not valid or not one_by_one[1]["error"], one_by_one
    if valid:
        row_by_row(True)
        one_by_one = run(world.ministry_pl, world, file, apply=True)
        row_by_row(False)
        assert run(world.ministry_pl, world, file, apply=True) == one_by_one
