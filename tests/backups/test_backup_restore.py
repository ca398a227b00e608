"""Backup and restore against real PostgreSQL, on databases of the tests' own (never the session's).

A source database is migrated and filled through the services in a thread of its own whose `default` connection
points at it; the backup is restored into another new database and the two compared table by table, row by row.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections, transaction
from django.db.backends.postgresql.base import DatabaseWrapper
from psycopg import sql

from backups import services

pytestmark = pytest.mark.django_db


def run_on(name: str, work: Callable[..., Any], *args: Any) -> Any:
    """`work(*args)` in a thread whose Django `default` connection is database `name`."""
    outcome: dict[str, Any] = {}

    def body() -> None:
        wrapper = DatabaseWrapper({**connection.settings_dict, "NAME": name}, "default")
        connections["default"] = wrapper
        try:
            outcome["value"] = work(*args)
        except BaseException as problem:
            outcome["error"] = problem
        finally:
            wrapper.close()

    thread = threading.Thread(target=body)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


@pytest.fixture
def new_database() -> Iterator[Callable[[str], services.Target]]:
    server = services.Target.from_settings().with_name("postgres")
    made: list[str] = []

    def make(kind: str) -> services.Target:
        name = f"coalition_backup_{kind}_{uuid.uuid4().hex[:10]}"
        with server.connect(autocommit=True) as db:
            db.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        made.append(name)
        return server.with_name(name)

    yield make
    with server.connect(autocommit=True) as db:
        for name in made:
            db.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def fill() -> dict[str, Any]:
    """Data of every kind, written as the product writes it."""
    from knox.models import AuthToken

    from accounts.models import User
    from imports import services as imports
    from imports.template import template_xlsx
    from meetings import services as meetings
    from meetings.briefs import pipeline
    from meetings.models import Brief, BriefStatus, Meeting
    from pledges import services as pledges
    from pledges.models import Coalition, Pledge
    from tests.imports.helpers import edited

    call_command("migrate", verbosity=0)
    call_command("seed_demo", "--with-demo-users", verbosity=0)
    coalition = Coalition.objects.order_by("pk").first()
    assert coalition is not None
    staff = User.objects.get(username="ministry-pl")
    pledge = Pledge.objects.filter(country=staff.country, coalition=coalition).order_by("pk").first()
    assert pledge is not None
    pledges.pledge_update(actor=staff, pledge=pledge, quantity=pledge.quantity + 1, system=True)
    # the demo plans and records tranches (pledges_delivery) through the services already
    pledges.condition_create(actor=staff, coalition=coalition, name="Backup test condition", system=True)
    template = template_xlsx(user=staff, coalition=coalition)
    mine = Pledge.objects.filter(country=staff.country, coalition=coalition).order_by("pk").first()
    assert mine is not None
    data = edited(template, change={mine.pk: {"quantity": mine.quantity + 5}})
    imported = imports.import_preview(actor=staff, coalition=coalition, filename="pl.xlsx", data=data)
    imports.import_apply(actor=staff, import_id=imported.pk)
    meeting = Meeting.objects.filter(coalition=coalition).order_by("pk").first()
    assert meeting is not None
    brief = meetings.brief_request(actor=None, meeting=meeting, system=True, queue=False)
    pipeline.brief_compile(brief_id=brief.pk)
    brief = Brief.objects.get(pk=brief.pk)
    assert brief.status == BriefStatus.READY, brief.error
    _, token = AuthToken.objects.create(user=User.objects.get(username="secretariat"), expiry=None)
    return {"token": token, "brief": brief.pk}


def tables(target: services.Target) -> dict[str, list[tuple[Any, ...]]]:
    """Every table of the public schema, SELECT * ordered by its primary key (or by every column)."""
    found: dict[str, list[tuple[Any, ...]]] = {}
    with target.connect() as db:
        names = [row[0] for row in db.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1").fetchall()]
        for name in names:
            keys = [row[0] for row in db.execute(
                "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
                "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass AND i.indisprimary ORDER BY 1",
                [f'public."{name}"']).fetchall()]
            query = sql.SQL("SELECT * FROM public.{}").format(sql.Identifier(name))
            if keys:
                query += sql.SQL(" ORDER BY {}").format(sql.SQL(", ").join(map(sql.Identifier, keys)))
                found[name] = db.execute(query).fetchall()
            else:
                found[name] = sorted(db.execute(query).fetchall(), key=repr)
        found["(sequences)"] = db.execute(
            "SELECT schemaname, sequencename, last_value FROM pg_sequences ORDER BY 1, 2").fetchall()
    return found


def test_a_backup_restores_every_row_and_every_brief_and_the_application_serves_from_it(
        new_database: Callable[[str], services.Target], tmp_path: Path) -> None:
    source, copy = new_database("src"), new_database("dst")
    made = run_on(source.name, fill)
    outcome = services.backup(tmp_path / "coalition.dump", source)
    assert outcome.size > 0 and not list(tmp_path.glob(".*partial"))
    services.restore(outcome.path, copy)

    before, after = tables(source), tables(copy)
    assert set(before) == set(after)
    for name in before:
        assert before[name] == after[name], name
    for kind in ("pledges_pledge", "pledges_pledgeevent", "pledges_caveat", "pledges_delivery", "pledges_condition",
                 "imports_import", "meetings_meeting", "meetings_brief", "accounts_user", "knox_authtoken",
                 "django_migrations"):
        assert after[kind], f"no rows of {kind}: the test should make some"
    with source.connect() as one, copy.connect() as other:
        query = "SELECT id, pdf, xlsx FROM meetings_brief ORDER BY id"
        briefs = one.execute(query).fetchall()
        assert briefs == other.execute(query).fetchall()
        assert any(pdf and bytes(pdf).startswith(b"%PDF") for _, pdf, _ in briefs)

    def serve() -> tuple[int, int, bytes]:
        from django.core.management import call_command as command
        from django.test import Client

        command("migrate", "--check", verbosity=0)  # the migrations table came with it
        client = Client(HTTP_AUTHORIZATION=f"Token {made['token']}")
        listed = client.get("/api/v1/pledges/", {"page_size": 500})
        pdf = client.get(f"/api/v1/briefs/{made['brief']}/pdf")
        return listed.status_code, listed.json()["count"], b"".join(pdf)

    status, count, pdf = run_on(copy.name, serve)
    assert (status, count) == run_on(source.name, serve)[:2] and status == 200 and count > 0
    assert pdf == bytes(next(row[1] for row in briefs if row[0] == made["brief"]))


def test_a_database_that_is_not_empty_is_refused_and_left_as_it_was(
        new_database: Callable[[str], services.Target], tmp_path: Path) -> None:
    source, busy = new_database("src"), new_database("busy")
    with source.connect(autocommit=True) as db:
        db.execute("CREATE TABLE kept (id int PRIMARY KEY, note text)")
        db.execute("INSERT INTO kept VALUES (1, 'from the backup')")
    path = services.backup(tmp_path / "small.dump", source).path
    with busy.connect(autocommit=True) as db:
        db.execute("CREATE TABLE other (id int PRIMARY KEY)")
        db.execute("INSERT INTO other VALUES (7)")
    before = tables(busy)
    with pytest.raises(services.DatabaseNotEmpty, match="not empty"):
        services.restore(path, busy)
    assert tables(busy) == before

    # the command against the session's database (migrated): refused, a non-zero exit, nothing changed
    counted = "SELECT count(*) FROM django_migrations"
    with connection.cursor() as cursor:
        cursor.execute(counted)
        migrations = cursor.fetchone()
    with pytest.raises(CommandError, match="not empty"):
        call_command("restore", str(path))
    with connection.cursor() as cursor:
        cursor.execute(counted)
        assert cursor.fetchone() == migrations
    with pytest.raises(CommandError, match="no backup file"):
        call_command("restore", str(tmp_path / "missing.dump"))


def test_the_backup_command_writes_a_file_and_fails_clearly(tmp_path: Path) -> None:
    call_command("backup", str(tmp_path / "nested" / "session.dump"))
    assert (tmp_path / "nested" / "session.dump").stat().st_size > 0
    (tmp_path / "folder").mkdir()
    with pytest.raises(CommandError, match="is a folder"):
        call_command("backup", str(tmp_path / "folder"))
    assert not list(tmp_path.rglob("*.partial"))
    (tmp_path / "garbage.dump").write_bytes(b"not a dump")
    with pytest.raises(CommandError, match="not a backup"):
        call_command("restore", str(tmp_path / "garbage.dump"))


def test_a_backup_taken_while_writes_go_on_restores_to_a_consistent_state(
        new_database: Callable[[str], services.Target], tmp_path: Path) -> None:
    source, copy = new_database("src"), new_database("dst")
    run_on(source.name, lambda: (call_command("migrate", verbosity=0), call_command("seed_demo", verbosity=0)))
    stop, written = threading.Event(), [0]

    def write() -> None:
        from pledges import services as pledges
        from pledges.models import CapabilityCategory, CategoryUnit, Coalition, Pledge, PledgeStatus
        from utilities.versioning import SystemActor

        actor = SystemActor("backup-test")
        coalition = Coalition.objects.order_by("pk").first()
        pair = CategoryUnit.objects.order_by("pk").first()
        assert coalition is not None and pair is not None
        country = Pledge.objects.filter(coalition=coalition).order_by("pk").first().country  # type: ignore[union-attr]
        category = CapabilityCategory.objects.get(pk=pair.category_id)
        while not stop.is_set():
            with transaction.atomic():  # two writes, two history rows: in a backup both or neither
                pledge = pledges.pledge_create(actor=actor, coalition=coalition, category=category, unit=pair.unit,
                                               quantity=3, country=country, system=True)
                pledges.pledge_transition(actor=actor, pledge=pledge, to_status=PledgeStatus.INDICATIVE,
                                          system=True)
            written[0] += 1

    writer = threading.Thread(target=run_on, args=(source.name, write))
    writer.start()
    try:
        deadline = time.monotonic() + 60
        while written[0] < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        at_start = written[0]
        path = services.backup(tmp_path / "moving.dump", source).path
        assert written[0] > at_start, "the writer should have gone on during the dump"
    finally:
        stop.set()
        writer.join()
    services.restore(path, copy)
    with copy.connect() as db:
        made = db.execute("SELECT count(*) FROM pledges_pledge WHERE description = '' AND quantity = 3 "
                          "AND version = 2 AND status = 'indicative'").fetchone()
        assert made is not None and 0 < made[0] < written[0]
        disagree = db.execute("""
            SELECT p.id FROM pledges_pledge p
              LEFT JOIN pledges_pledgeevent e ON e.pgh_obj_id = p.id AND e.pgh_superseded_at IS NULL
             WHERE e.pgh_id IS NULL OR e.version <> p.version OR e.status <> p.status OR e.quantity <> p.quantity
            UNION ALL
            SELECT e.pgh_obj_id FROM pledges_pledgeevent e
             WHERE e.pgh_label <> 'delete' AND NOT EXISTS (SELECT 1 FROM pledges_pledge p WHERE p.id = e.pgh_obj_id)
        """).fetchall()
        assert disagree == []
        half = db.execute("SELECT count(*) FROM pledges_pledge p WHERE p.quantity = 3 AND p.status = 'draft' "
                          "AND p.created_at > now() - interval '1 hour'").fetchone()
        assert half == (0,)


def test_the_scheduled_backup_keeps_the_newest_files(tmp_path: Path, settings: Any) -> None:
    from backups.tasks import scheduled_backup

    settings.BACKUP_DIR, settings.BACKUP_KEEP, settings.BACKUP_INTERVAL = str(tmp_path), 2, 0.0
    for day in (1, 2, 3):
        services.scheduled_backup(tmp_path, 2, interval=0.0, now=dt.datetime(2026, 1, day, tzinfo=dt.UTC))
    assert [path.name for path in services.backups_in(tmp_path)] == ["coalition-20260102T000000Z.dump",
                                                                      "coalition-20260103T000000Z.dump"]
    assert services.scheduled_backup(tmp_path, 2, interval=3600.0) is None  # one made within half the interval
    made = scheduled_backup()
    assert made is not None and Path(made).exists() and len(services.backups_in(tmp_path)) == 2
