"""A brief whose worker dies mid-compile is back within a minute and ready within 90 s; the same when its worker
is restarted and when Redis restarts. Real processes: a Celery worker, Celery beat (whose reaper, every 10 s,
does the recovering) and a Redis of this test's own (restarted here, never the machine's)."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings

from meetings import services
from meetings.briefs import pipeline
from meetings.models import Brief, BriefStatus, Meeting
from tests.conftest import World, session_database_url
from tests.hardening.test_fault_redis import ThrowAwayRedis
from tests.meetings.conftest import pledges_with_caveats
from tests.meetings.test_worker import Worker, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.fault, pytest.mark.django_db(transaction=True)]
ROOT = Path(settings.BASE_DIR)


class Beat:
    """`celery -A coalition beat`: the schedule of settings.CELERY_BEAT_SCHEDULE, the reaper every 10 s."""

    def __init__(self, folder: Path, redis_url: str) -> None:
        import os

        env = {**os.environ, "DATABASE_URL": session_database_url(), "REDIS_URL": redis_url,
               "COALITION_TESTING": "true"}
        self.log = folder / "beat.log"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "coalition", "beat", "--loglevel=INFO",
             "--schedule", str(folder / "beat-schedule")],
            cwd=ROOT, env=env, stdout=self.log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(15)


@pytest.fixture
def own_redis() -> Iterator[ThrowAwayRedis]:
    folder = Path(tempfile.mkdtemp(prefix="rr-", dir="/tmp"))
    server = ThrowAwayRedis(folder)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def processes(own_redis: ThrowAwayRedis, tmp_path: Path) -> Iterator[Callable[..., Worker]]:
    started: list[Worker | Beat] = [Beat(tmp_path, own_redis.url)]

    def worker(compile_delay: float = 0) -> Worker:
        made = Worker(tmp_path / f"worker{len(started)}.log", compile_delay, REDIS_URL=own_redis.url)
        started.append(made)
        return made

    yield worker
    for process in reversed(started):
        process.stop()


def status(brief: Brief) -> str:
    return str(Brief.objects.get(pk=brief.pk).status)


def test_a_brief_whose_worker_is_killed_is_ready_within_90_seconds(
    world: World, meeting: Meeting, processes: Callable[..., Worker]
) -> None:
    pledges_with_caveats(world)
    slow = processes(compile_delay=120)
    brief = services.brief_request(actor=world.secretariat, meeting=meeting, queue=False)  # sent by the reaper
    wait_for(lambda: status(brief) == BriefStatus.RUNNING, 40, "the worker to start compiling", slow)
    slow.kill()  # SIGKILL, the whole process group: no cleanup runs
    killed = time.monotonic()
    processes()  # what the supervisor does: a worker again
    wait_for(lambda: status(brief) == BriefStatus.QUEUED or status(brief) == BriefStatus.READY, 60,
             "the brief queued again within a minute", slow)
    requeued = time.monotonic() - killed
    wait_for(lambda: status(brief) == BriefStatus.READY, 90 - (time.monotonic() - killed), "ready within 90 s", slow)
    done = Brief.objects.get(pk=brief.pk)
    assert (done.attempts, Brief.objects.filter(meeting=meeting).count()) == (2, 1)
    print(f"worker killed mid-compile: queued again after {requeued:.0f} s, ready after "
          f"{time.monotonic() - killed:.0f} s")


def test_a_brief_compiling_through_a_worker_restart_and_a_redis_restart_is_ready(
    world: World, meeting: Meeting, processes: Callable[..., Worker], own_redis: ThrowAwayRedis
) -> None:
    pledges_with_caveats(world)
    # A full worker restart: asked to stop (warm shutdown), then killed when it takes too long, as a supervisor does.
    first = processes(compile_delay=120)
    brief = services.brief_request(actor=world.secretariat, meeting=meeting, queue=False)
    wait_for(lambda: status(brief) == BriefStatus.RUNNING, 40, "the first worker to start", first)
    first.stop()
    restarted = time.monotonic()
    processes()
    wait_for(lambda: status(brief) == BriefStatus.READY, 90, "ready within 90 s of the restart", first)
    print(f"worker restarted mid-compile: ready after {time.monotonic() - restarted:.0f} s")

    # Redis restarted while a brief compiles: its result is written to the database all the same.
    second = services.brief_request(actor=world.secretariat, meeting=meeting, queue=False)
    slow = processes(compile_delay=6)
    wait_for(lambda: status(second) == BriefStatus.RUNNING, 40, "a worker to take the second brief", slow)
    own_redis.stop()
    time.sleep(2)
    own_redis.start()
    back = time.monotonic()
    wait_for(lambda: status(second) == BriefStatus.READY, 90, "ready within 90 s of Redis returning", slow)
    print(f"Redis restarted mid-compile: ready {time.monotonic() - back:.0f} s after Redis returned")

    # And a brief asked for while Redis is down is compiled once it is back.
    own_redis.stop()
    third = services.brief_request(actor=world.secretariat, meeting=meeting, queue=False)
    time.sleep(3)
    own_redis.start()
    back = time.monotonic()
    wait_for(lambda: status(third) == BriefStatus.READY, 30, "ready within 30 s of Redis returning", slow)
    print(f"asked for while Redis was down: ready {time.monotonic() - back:.0f} s after it returned")
    assert sorted(Brief.objects.filter(meeting=meeting).values_list("number", flat=True)) == [1, 2, 3]
    assert dt.timedelta(0) <= pipeline.STALE_RUNNING_AFTER <= dt.timedelta(minutes=1)
