"""Real processes: gunicorn with two workers in prometheus_client's multiprocess mode (as `make run` starts it:
coalition/gunicorn.conf.py, PROMETHEUS_MULTIPROC_DIR), whose /metrics adds up what every worker counted, a worker
killed on the way included; and its output with LOG_FORMAT=json, every line a JSON object, with the request id."""

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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.conf import settings

from tests.conftest import session_database_url
from tests.hardening.test_fault_postgres import app_env, free_port
from tests.metrics.test_metrics_view import value

pytestmark = pytest.mark.django_db
ROOT = Path(settings.BASE_DIR)


def fetch(url: str, method: str = "GET", headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as error:
        return int(error.code), error.read()
    except OSError:
        return 0, b""


def workers_of(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [int(pid) for pid in children]


def test_gunicorn_workers_add_up_and_log_json_lines() -> None:
    folder = Path(tempfile.mkdtemp(prefix="metrics-", dir="/tmp"))
    multiproc = folder / "metrics"
    multiproc.mkdir()
    log = folder / "gunicorn.log"
    port = free_port()
    env = {**app_env(session_database_url()), "PROMETHEUS_MULTIPROC_DIR": str(multiproc), "LOG_FORMAT": "json",
           "DJANGO_LOG_LEVEL": "INFO", "COALITION_ADDRESS": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "2"}
    base = f"http://127.0.0.1:{port}"
    with log.open("wb") as output:
        gunicorn = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "coalition" / "gunicorn.conf.py"),
             "coalition.wsgi:application"], cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
            start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while fetch(base + "/health/")[0] != 200:
            assert gunicorn.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "gunicorn did not come up"
            time.sleep(0.3)
        assert len(workers_of(gunicorn.pid)) == 2

        sent = 60
        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(lambda _: fetch(base + "/health/")[0], range(sent)))
        assert statuses == [200] * sent
        # Both workers counted (each writes its own file), and one of them now dies: what it counted stays.
        assert len({path.name for path in multiproc.glob("counter_*.db")}) >= 2, sorted(os.listdir(multiproc))
        os.kill(workers_of(gunicorn.pid)[0], signal.SIGKILL)
        deadline = time.monotonic() + 30
        while len(workers_of(gunicorn.pid)) < 2:  # gunicorn replaces it
            assert time.monotonic() < deadline, "no new worker"
            time.sleep(0.2)
        more = 20
        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(lambda _: fetch(base + "/health/")[0], range(more)))
        assert statuses.count(200) >= more - 2  # a request the dying worker held may fail

        status, body = fetch(base + "/metrics")
        assert status == 200, body[:500]
        text = body.decode()
        # The readiness probes above were /health/ too: at least every request sent, from every worker together.
        assert value(text, "coalition_http_requests_total", view="health", method="GET",
                     status="200") >= sent + statuses.count(200)
        assert value(text, "coalition_http_request_duration_seconds_count", view="health") >= sent
        # Through a proxy on this machine (not trusted: DJANGO_TRUSTED_PROXIES unset) it is not there.
        assert fetch(base + "/metrics", headers={"X-Forwarded-For": "203.0.113.9"})[0] == 404

        status, _ = fetch(base + "/health/", method="POST", headers={"X-Request-ID": "probe-42"})
        assert status in (403, 405)
        time.sleep(1)
    finally:
        if gunicorn.poll() is None:
            os.killpg(gunicorn.pid, signal.SIGTERM)
            gunicorn.wait(30)

    lines = [line for line in log.read_text().splitlines() if line.strip()]
    shutil.rmtree(folder, ignore_errors=True)
    entries = []
    for line in lines:
        entry = json.loads(line)  # every line is one JSON object
        assert {"timestamp", "level", "logger", "message"} <= entry.keys(), entry
        entries.append(entry)
    assert any(entry["logger"] == "gunicorn.error" for entry in entries)
    # Django's own line about the refused POST names the request's id, and so does the access log's.
    assert any(entry["logger"].startswith("django") and entry.get("request_id") == "probe-42" for entry in entries), \
        [entry for entry in entries if entry["logger"] != "gunicorn.access"]
    assert any(entry["logger"] == "gunicorn.access" and "request_id=probe-42" in entry["message"]
               for entry in entries)
