"""Long imports are previewed and applied by a real Celery worker of their own queue (`imports`), with progress,
all rows or none, within a time limit; a brief asked meanwhile is compiled by the other worker, never behind one."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import User
from coalition.celery import app as celery_app
from imports import services
from meetings.models import Meeting
from pledges.models import Caveat, Pledge
from tests.conftest import World, session_database_url
from tests.imports.helpers import workbook
from tests.imports.test_api import HEADER
from tests.meetings.conftest import client_for, meeting, pledges_with_caveats  # noqa: F401 - the meeting fixture
from tests.meetings.test_worker import Worker, poll_until_done, start_worker, wait_for  # noqa: F401 - fixture

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

ROOT = Path(settings.BASE_DIR)


class ImportsWorker(Worker):
    """`celery -A coalition worker -Q imports` as `make run` starts it: the prefork pool (time limits need it),
    one process at a time."""

    def __init__(self, log: Path, **extra_env: str) -> None:
        env = {**os.environ, "DATABASE_URL": session_database_url(), "REDIS_URL": settings.REDIS_URL,
               "COALITION_TESTING": "true", "DJANGO_CONN_MAX_AGE": "0", **extra_env}
        self.log = log
        self.name = f"imports-{uuid.uuid4().hex[:8]}@%h"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "coalition", "worker", "-Q", "imports", "--concurrency=1",
             "-n", self.name, "--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True,
        )


def _clear_imports_queue() -> None:
    with celery_app.connection_for_write() as connection:
        connection.default_channel.queue_purge("imports")


@pytest.fixture
def start_imports_worker(tmp_path: Path, start_worker: Callable[..., Worker]) -> Iterator[Callable[..., Worker]]:  # noqa: F811
    """Also clears the broker, before and after (through start_worker's fixture)."""
    _clear_imports_queue()
    workers: list[Worker] = []

    def start(**env: str) -> Worker:
        worker = ImportsWorker(tmp_path / f"imports{len(workers)}.log", **env)
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.kill()  # a warm shutdown would wait for the import to end
    _clear_imports_queue()


@pytest.fixture
def slow_caveats() -> Iterator[None]:
    """An import is seconds of work now, no longer minutes (pledges.bulk): here each caveat written sleeps 10 ms in
    the database (a trigger of this test's own), so that an import lasts long enough to be seen under way, or to
    pass a time limit. Asked for before the workers, so that it is dropped once they are gone."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE FUNCTION test_slow_write() RETURNS trigger AS $$ BEGIN PERFORM pg_sleep(0.01); "
                       "RETURN NEW; END $$ LANGUAGE plpgsql; CREATE TRIGGER test_slow_write BEFORE INSERT ON "
                       "pledges_caveat FOR EACH ROW EXECUTE FUNCTION test_slow_write()")
    yield
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER IF EXISTS test_slow_write ON pledges_caveat; "
                       "DROP FUNCTION IF EXISTS test_slow_write()")


def ministry_client(world: World) -> APIClient:
    client = APIClient()
    client.force_authenticate(User.objects.get(pk=world.ministry_pl.pk))
    return client


def upload_rows(client: APIClient, world: World, count: int, caveats: str | None = None) -> int:
    rows = [[None, None, "PL", "troops", "personnel", 10 + n, "indicative", *[None] * 8, caveats]
            for n in range(count)]
    response = client.post("/api/v1/imports/", {"file": SimpleUploadedFile("long.xlsx", workbook([HEADER, *rows])),
                                                "coalition": world.coalition.pk}, format="multipart")
    assert response.status_code == 201 and response.json()["status"] == "previewing", response.content[:500]
    return int(response.json()["id"])


def wait_until(client: APIClient, import_id: int, done: str, worker: Worker) -> dict[str, Any]:
    def reached() -> dict[str, Any] | None:
        body: dict[str, Any] = client.get(f"/api/v1/imports/{import_id}/").json()
        if body["status"] in ("failed", "previewed", "applied") and body["status"] != done:
            raise AssertionError(f"{body['status']}: {body['error']}\n{worker.output()}")
        return body if body["status"] == done else None

    return dict(wait_for(reached, 120, f"import {import_id} {done}", worker))


def test_a_long_import_is_previewed_and_applied_by_a_worker(world: World,
                                                            start_imports_worker: Callable[..., Worker],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(services, "QUEUED_ABOVE", 100)  # in this process, where the request decides
    worker = start_imports_worker()
    client = ministry_client(world)
    import_id = upload_rows(client, world, 250)
    assert client.get(f"/api/v1/imports/{import_id}/").json()["rows"] == []
    assert client.post(f"/api/v1/imports/{import_id}/apply/").status_code == 400  # not before its preview
    wait_until(client, import_id, "previewed", worker)
    body = client.get(f"/api/v1/imports/{import_id}/").json()
    assert body["summary"]["create"] == 250 and len(body["rows"]) == 250 and not Pledge.objects.exists()
    queued = client.post(f"/api/v1/imports/{import_id}/apply/")
    assert queued.status_code == 202 and queued.json()["status"] == "applying"
    wait_until(client, import_id, "applied", worker)
    assert Pledge.objects.filter(country=world.pl).count() == 250
    assert client.post(f"/api/v1/imports/{import_id}/apply/").status_code == 200  # again: nothing more
    assert Pledge.objects.filter(country=world.pl).count() == 250


def test_a_brief_never_waits_behind_an_import(slow_caveats: None, world: World, meeting: Meeting,  # noqa: F811
                                              start_worker: Callable[..., Worker],  # noqa: F811
                                              start_imports_worker: Callable[..., Worker]) -> None:
    """The worker that compiles briefs takes no import: the largest legal import (2,500 rows with two caveats each,
    the 5,000 caveats a file may add, made a minute of work by slow_caveats) is being previewed when the brief is
    asked for, and still is when the brief is ready."""
    pledges_with_caveats(world)
    brief_worker, imports_worker = start_worker(), start_imports_worker()
    client = ministry_client(world)
    pledges = Pledge.objects.count()
    import_id = upload_rows(client, world, 2500, caveats="condition: With a ceasefire.\nrole: Training only.")
    wait_for(lambda: (client.get(f"/api/v1/imports/{import_id}/").json().get("progress") or 0) > 0, 120,
             "the import under way", imports_worker)
    asked = client_for(world.secretariat).post(f"/api/v1/meetings/{meeting.pk}/briefs/")
    assert asked.status_code == 202
    brief = poll_until_done(client_for(world.analyst), asked.json()["id"], brief_worker)
    assert brief["status"] == "ready", brief_worker.output()
    still = client.get(f"/api/v1/imports/{import_id}/").json()
    assert still["status"] == "previewing" and 0 < still["progress"] < 100, still
    assert Pledge.objects.count() == pledges  # a preview writes nothing


@pytest.mark.parametrize(("soft", "hard"), [(2, 60), (0, 2)], ids=["soft", "hard"])
def test_an_import_past_its_time_limit_fails_and_changes_nothing(slow_caveats: None, world: World, soft: int,
                                                                 hard: int,
                                                                 start_imports_worker: Callable[..., Worker],
                                                                 settings: Any) -> None:
    """At the soft limit the task stops itself; at the hard one (alone here: 0 is no soft limit, as when a query
    will not yield to the soft one) its process is killed and the worker's main process says so. Either way the
    import is failed, with why, and nothing was written."""
    settings.IMPORT_TIME_LIMIT, settings.IMPORT_HARD_TIME_LIMIT = soft, hard  # sent with the message
    worker = start_imports_worker()
    client = ministry_client(world)
    caveats_before = Caveat.objects.count()
    import_id = upload_rows(client, world, 1000, caveats="condition: With a ceasefire.\nrole: Training only.")
    failed = wait_until(client, import_id, "failed", worker)
    assert failed["error"] == ("The import took longer than 2 seconds and was stopped; nothing was changed. Split "
                               "the file into smaller ones and upload them one by one."), failed
    assert not Pledge.objects.exists() and Caveat.objects.count() == caveats_before
    refused = client.post(f"/api/v1/imports/{import_id}/apply/")
    assert refused.status_code == 400 and "did not finish" in refused.json()["status"][0], refused.json()
    assert ("Hard time limit (2" in worker.output()) == (hard == 2)
