"""`make run` as a user runs it, then broken on purpose: the product survives its own parts dying.

`python -m coalition.run` (what `make run` calls) starts, from nothing, an embedded PostgreSQL and Redis, the
web server (gunicorn), a Celery worker and beat under supervisord, in a folder of its own. Then: Redis is
stopped and killed (the API keeps answering, a brief asked for meanwhile is compiled within 30 s of Redis
returning), the worker is killed (supervisord restarts it), 50 requests arrive at once (no 5xx, database
connections stay few), and SIGTERM stops everything.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

pytestmark = [pytest.mark.fault, pytest.mark.worker]

ROOT = Path(settings.BASE_DIR)
PASSWORD = "coalition-demo-2025"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Run:
    """The launcher as a child process, and ways to look at and break what it started."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="mr-", dir="/tmp"))  # short: unix socket paths are limited
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = self.folder / "run.log"
        env = {key: value for key, value in os.environ.items()
               if key not in ("DATABASE_URL", "REDIS_URL", "COALITION_TESTING", "DJANGO_SETTINGS_MODULE")}
        env |= {"COALITION_LOCAL_DIR": str(self.folder / "local"), "COALITION_ADDRESS": f"127.0.0.1:{self.port}",
                "WEB_CONCURRENCY": "3"}
        self.process = subprocess.Popen([sys.executable, "-m", "coalition.run"], cwd=ROOT, env=env,
                                        stdout=self.log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
        self.config = self.folder / "local" / "supervisor" / "supervisord.conf"

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-6000:]

    def ctl(self, *args: str) -> str:
        return subprocess.run([sys.executable, "-m", "supervisor.supervisorctl", "-c", str(self.config), *args],
                              capture_output=True, text=True, check=False, timeout=60).stdout

    def pid(self, program: str) -> int:
        return int(self.ctl("pid", program).strip() or 0)

    def running(self, program: str) -> bool:
        return "RUNNING" in self.ctl("status", program)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(90)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)


def wait_for(check: Callable[[], Any], timeout: float, what: str, run: Run) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if result := check():
                return result
        except (OSError, ValueError):
            pass
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}\n{run.output()}")


def call(method: str, url: str, body: Any = None, headers: dict[str, str] | None = None,
         timeout: float = 30) -> tuple[int, dict[str, str], Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={
        "Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            text = response.read()
            return response.status, dict(response.headers), json.loads(text) if text else None
    except urllib.error.HTTPError as error:
        text = error.read()
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = text.decode(errors="replace")
        return error.code, dict(error.headers), parsed


@pytest.fixture
def run() -> Iterator[Run]:
    started = Run()
    try:
        yield started
    finally:
        started.stop()
        shutil.rmtree(started.folder, ignore_errors=True)


def test_make_run_survives_its_parts_dying(run: Run) -> None:
    wait_for(lambda: call("GET", run.base + "/health/")[0] == 200, 300, "the web server", run)
    wait_for(lambda: all(run.running(p) for p in ("postgres", "redis", "web", "worker", "beat")), 60,
             "every process running", run)
    status, _, body = call("POST", run.base + "/api/v1/auth/token/", {"username": "secretariat", "password": PASSWORD})
    assert status == 200, body
    auth = {"Authorization": f"Token {body['token']}"}
    _, _, meetings = call("GET", run.base + "/api/v1/meetings/", headers=auth)
    meeting = next(m for m in meetings["results"] if "NATO" in m["title"] or "ministers" in m["title"])

    # Redis stopped: the API keeps answering; a brief asked for meanwhile waits in the database.
    run.ctl("stop", "redis")
    for path in ("/api/v1/pledges/", f"/api/v1/coalitions/{meeting['coalition']}/force/", "/health/"):
        status, _, _ = call("GET", run.base + path, headers=auth)
        assert status == 200, (path, status)
    status, _, brief = call("POST", run.base + f"/api/v1/meetings/{meeting['id']}/briefs/", headers=auth)
    assert status == 202 and brief["status"] == "queued"
    time.sleep(5)
    run.ctl("start", "redis")
    back = time.monotonic()

    def ready() -> bool:
        return call("GET", run.base + f"/api/v1/briefs/{brief['id']}/", headers=auth)[2]["status"] == "ready"

    wait_for(ready, 30, "the brief asked for during the outage (30 s after Redis returned)", run)
    assert time.monotonic() - back < 30
    print(f"brief asked for during the Redis outage: ready {time.monotonic() - back:.1f} s after Redis returned")
    wait_for(lambda: run.running("worker") and run.running("beat"), 30, "worker and beat after the outage", run)

    # Redis killed outright: supervisord brings it back.
    redis_pid = run.pid("redis")
    os.kill(redis_pid, signal.SIGKILL)
    killed = time.monotonic()
    wait_for(lambda: run.pid("redis") not in (0, redis_pid) and run.running("redis"), 20, "Redis restarted", run)
    print(f"Redis killed: running again after {time.monotonic() - killed:.1f} s")
    assert call("GET", run.base + "/api/v1/pledges/", headers=auth)[0] == 200

    # The worker killed: restarted, and compiling again.
    worker_pid = run.pid("worker")
    os.killpg(worker_pid, signal.SIGKILL)
    killed = time.monotonic()
    wait_for(lambda: run.pid("worker") not in (0, worker_pid) and run.running("worker"), 30, "worker restarted", run)
    print(f"worker killed: running again after {time.monotonic() - killed:.1f} s")
    status, _, again = call("POST", run.base + f"/api/v1/meetings/{meeting['id']}/briefs/", headers=auth)
    assert status == 202
    wait_for(lambda: call("GET", run.base + f"/api/v1/briefs/{again['id']}/", headers=auth)[2]["status"] == "ready",
             60, "a brief compiled by the restarted worker", run)

    # 50 requests at once, reads and If-Match writes: no 5xx, few database connections.
    status, _, body = call("POST", run.base + "/api/v1/auth/token/", {"username": "ministry-pl", "password": PASSWORD})
    pl = {"Authorization": f"Token {body['token']}"}
    own = [p for p in call("GET", run.base + "/api/v1/pledges/?country=PL&page_size=100", headers=pl)[2]["results"]
           if p["status"] != "withdrawn"]
    assert own
    answers: list[int] = []

    def read(i: int) -> None:
        path = ("/api/v1/pledges/?page_size=100", f"/api/v1/coalitions/{meeting['coalition']}/force/",
                "/api/v1/caveats/")[i % 3]
        answers.append(call("GET", run.base + path, headers=auth, timeout=60)[0])

    def write(i: int) -> None:
        pledge = own[i % len(own)]
        status, headers, _ = call("GET", run.base + f"/api/v1/pledges/{pledge['id']}/", headers=pl, timeout=60)
        answers.append(status)
        answers.append(call("PATCH", run.base + f"/api/v1/pledges/{pledge['id']}/",
                            {"description": f"Revised {i}"}, {**pl, "If-Match": headers.get("ETag", "")},
                            timeout=60)[0])

    threads = [threading.Thread(target=read if i % 2 else write, args=(i,)) for i in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 75 and not [a for a in answers if a >= 500], answers
    assert answers.count(200) >= 50
    connections = subprocess.run(
        [sys.executable, "-c", "import psycopg, sys; c = psycopg.connect(host=sys.argv[1], user='postgres', "
         "dbname='postgres'); print(c.execute('SELECT count(*) FROM pg_stat_activity WHERE datname IS NOT NULL')"
         ".fetchone()[0])", _socket_dir(run)], capture_output=True, text=True, check=True).stdout
    assert int(connections) <= 15, connections
    print(f"50 requests at once: {answers.count(200)} answers 200, {sum(a >= 500 for a in answers)} 5xx, "
          f"{int(connections)} database connections")

    # /metrics adds up every process of the node: the web workers' requests, the briefs the worker compiled
    # (the killed one's too), the queues read from Redis.
    with urllib.request.urlopen(run.base + "/metrics", timeout=30) as response:
        figures = _figures(response.read().decode())
    assert figures.get(("coalition_briefs_compiled_total", (("outcome", "ready"),)), 0) >= 2, figures
    assert sum(value for (name, labels), value in figures.items()
               if name == "coalition_http_requests_total" and ("status", "200") in labels) >= 50
    assert figures[("coalition_queue_up", ())] == 1
    assert (run.folder / "local" / "metrics").is_dir()

    # SIGTERM: every process stops.
    pids = [run.pid(p) for p in ("postgres", "redis", "web", "worker", "beat")]
    run.stop()
    assert run.process.returncode is not None
    for pid in pids:
        wait_for(lambda pid=pid: not _alive(pid), 30, f"process {pid} to stop", run)


def _figures(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    from prometheus_client.parser import text_string_to_metric_families

    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def _socket_dir(run: Run) -> str:
    for line in run.ctl("status").splitlines():
        assert "FATAL" not in line, line
    command = run.config.read_text().split("[program:postgres]")[1].split("command=")[1].splitlines()[0]
    return command.split(" -k ")[1].split()[0].strip("'")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
