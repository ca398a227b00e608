"""Briefs compiled by a real Celery worker process against the real Redis and the test PostgreSQL database."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from django.conf import settings
from rest_framework.test import APIClient

from coalition.celery import app as celery_app
from meetings import services
from meetings.briefs import pipeline
from meetings.models import Brief, BriefStatus, Meeting
from tests.conftest import World, session_database_url
from tests.meetings.conftest import API_URLCONF, client_for, pledges_with_caveats
from tests.meetings.helpers import pdf_text, xlsx_rows

pytestmark = [pytest.mark.worker, pytest.mark.urls(API_URLCONF), pytest.mark.django_db(transaction=True)]

ROOT = Path(settings.BASE_DIR)


class Worker:
    """`celery -A coalition worker` in its own process group, logging to a file the test can show.

    `compile_delay` (seconds): every compile waits that long first, its brief running (tests.meetings.slow_worker),
    so that the test can kill or restart the worker mid-compile."""

    def __init__(self, log: Path, compile_delay: float = 0, **extra_env: str) -> None:
        env = {**os.environ, "DATABASE_URL": session_database_url(), "REDIS_URL": settings.REDIS_URL,
               "COALITION_TESTING": "true", "DJANGO_CONN_MAX_AGE": "0", **extra_env}
        self.log = log
        self.name = f"test-{uuid.uuid4().hex[:8]}@%h"
        launcher = ["tests.meetings.slow_worker", str(compile_delay)] if compile_delay else ["celery"]
        self.process = subprocess.Popen(
            [sys.executable, "-m", *launcher, "-A", "coalition", "worker", "--pool=solo", "-Q", "celery",
             "-n", self.name, "--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True,
        )

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def _clear_broker() -> None:
    """No message left from another test: the queue and kombu's unacknowledged (redeliverable) messages."""
    celery_app.control.purge()
    redis.Redis.from_url(settings.REDIS_URL).delete("unacked", "unacked_index", "unacked_mutex")


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Callable[..., Worker]]:
    _clear_broker()
    workers: list[Worker] = []

    def start(compile_delay: float = 0, **env: str) -> Worker:
        worker = Worker(tmp_path / f"worker{len(workers)}.log", compile_delay, **env)
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()
    _clear_broker()


def wait_for(check: Callable[[], Any], timeout: float, what: str, worker: Worker | None = None) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}" + (f"\nworker log:\n{worker.output()}" if worker else ""))


def poll_until_done(client: APIClient, brief_id: int, worker: Worker, timeout: float = 45) -> dict[str, Any]:
    def done() -> dict[str, Any] | None:
        response = client.get(f"/api/v1/briefs/{brief_id}/")
        assert response.status_code == 200
        body = response.json()
        assert 0 <= body["progress"] <= 100
        return body if body["status"] in ("ready", "failed") else None

    return wait_for(done, timeout, f"brief {brief_id}", worker)


def test_a_worker_compiles_the_brief_asked_for_through_the_api(world: World, meeting: Meeting,
                                                                 start_worker: Callable[..., Worker]) -> None:
    pledges_with_caveats(world)
    worker = start_worker()
    secretariat, analyst = client_for(world.secretariat), client_for(world.analyst)
    response = secretariat.post(f"/api/v1/meetings/{meeting.pk}/briefs/")
    assert response.status_code == 202 and response.json()["status"] == "queued"
    brief_id = response.json()["id"]

    status = poll_until_done(analyst, brief_id, worker)
    assert (status["status"], status["progress"], status["error"]) == ("ready", 100, ""), worker.output()

    pdf = analyst.get(f"/api/v1/briefs/{brief_id}/pdf")
    assert pdf.status_code == 200 and pdf["Content-Disposition"].startswith("attachment;")
    text = pdf_text(pdf.content)
    for expected in ("Poland", "France", "United Kingdom", "Only once a ceasefire is in force.",
                     "No Polish troops on Ukrainian territory.", "Threat from Belarus."):
        assert expected in text, expected
    layout = pdf_text(pdf.content, layout=True)
    troops = next(line for line in layout.splitlines() if line.strip().startswith("Troops") and "5,000" in line)
    assert troops.split()[1:] == ["personnel", "5,000", "1,200", "800", "800", "3,800", "3,800"]
    assert "Secret draft squadron" not in text

    xlsx = secretariat.get(f"/api/v1/briefs/{brief_id}/xlsx")
    assert xlsx.status_code == 200
    brief = Brief.objects.get(pk=brief_id)
    force = {(line.category, line.unit): line for line in
             services_force(world, brief.as_of)}
    for row in xlsx_rows(xlsx.content, "Force"):
        line = force[(row["Category"], row["Unit"])]
        assert (row["Requirement"], row["Confirmed"], row["Indicative"], row["Conditional"], row["Gap"]) == (
            line.requirement, line.confirmed, line.indicative, line.conditional, line.gap)
    assert client_for(world.ministry_pl).get(f"/api/v1/briefs/{brief_id}/pdf").status_code == 404


def services_force(world: World, as_of: dt.datetime) -> list[Any]:
    from pledges.selectors import coalition_force

    return coalition_force(coalition=world.coalition, user=world.analyst, as_of=as_of).categories


def test_a_killed_worker_leaves_no_brief_running_forever(world: World, meeting: Meeting,
                                                         start_worker: Callable[..., Worker]) -> None:
    pledges_with_caveats(world)
    slow = start_worker(compile_delay=60)
    brief = services.brief_request(actor=world.secretariat, meeting=meeting)
    wait_for(lambda: Brief.objects.get(pk=brief.pk).status == BriefStatus.RUNNING, 30, "the worker to start", slow)
    slow.kill()  # SIGKILL mid-compile: no cleanup code runs
    stuck = Brief.objects.get(pk=brief.pk)
    assert (stuck.status, stuck.attempts) == (BriefStatus.RUNNING, 1)

    # The beat task, with a short staleness limit for the test, hands it to the next worker.
    assert pipeline.briefs_reap_stale(running_after=dt.timedelta(seconds=0))["requeued"] == 1
    fresh = start_worker()
    status = poll_until_done(client_for(world.secretariat), brief.pk, fresh)
    assert status["status"] == "ready", fresh.output()
    done = Brief.objects.get(pk=brief.pk)
    assert (done.attempts, done.number, Brief.objects.filter(meeting=meeting).count()) == (2, 1, 1)


def test_ten_parallel_brief_requests_are_all_compiled_within_a_minute(
    world: World, meeting: Meeting, start_worker: Callable[..., Worker]
) -> None:
    """Requests hold the meeting's lock while numbering; the worker's claim must not skip a brief for it."""
    import threading

    from django.db import connection

    pledges_with_caveats(world)
    worker = start_worker()
    answers: list[int] = []
    failures: list[str] = []

    def request() -> None:
        try:
            response = client_for(world.secretariat).post(f"/api/v1/meetings/{meeting.pk}/briefs/")
            if response.status_code == 202:
                answers.append(response.json()["id"])
            else:
                failures.append(f"{response.status_code} {response.content[:200]!r}")
        finally:
            connection.close()

    started = time.monotonic()
    threads = [threading.Thread(target=request) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures and len(answers) == 10

    def all_ready() -> bool:
        return Brief.objects.filter(pk__in=answers, status=BriefStatus.READY).count() == 10

    wait_for(all_ready, 60 - (time.monotonic() - started), "ten briefs ready within a minute", worker)
    assert sorted(Brief.objects.filter(meeting=meeting).values_list("number", flat=True)) == list(range(1, 11))
