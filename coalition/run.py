"""Run the whole product on one machine, shaped as production runs it: `python -m coalition.run` (`make run`).

supervisord (from PyPI) owns every process and restarts any that dies: the embedded PostgreSQL and Redis
(when DATABASE_URL / REDIS_URL are not set), the web server (gunicorn), a Celery worker (briefs, reminders, the
scheduled jobs), a Celery worker for spreadsheet imports (their own queue, so that a brief never waits behind
one) and Celery beat. This module only writes supervisord's configuration, starts it, migrates and loads the
demo coalition once the database answers, asks supervisord to start the web server, the workers and beat, and
then waits on supervisord until Ctrl-C (or SIGTERM), which stops them all.

Settings are production's (DEBUG off), relaxed only for plain HTTP on this machine: no HTTPS redirect and
cookies not marked Secure. The secret key is made once and kept in `.local/secret_key`.

With DATABASE_URL and REDIS_URL set, several launchers against the same servers are several nodes (README, "More
than one machine"): each keeps its files (supervisord's socket, pid file and logs, gunicorn's control socket, beat's
schedule, mail files) in its own local folder (COALITION_LOCAL_DIR, default `.local/`), and migrates and loads the
demo under a PostgreSQL advisory lock, so that nodes started at the same moment take turns.
"""

from __future__ import annotations

import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from coalition import embedded

ROOT = Path(__file__).resolve().parent.parent
PROCESSES = ("web", "worker", "imports-worker", "beat")


@dataclass
class Program:
    """One [program:x] of supervisord's configuration."""

    name: str
    command: list[str]
    autostart: bool = False
    user: str | None = None
    priority: int = 100
    stopsignal: str = "TERM"
    stopwaitsecs: int = 30
    environment: dict[str, str] = field(default_factory=dict)

    def section(self) -> str:
        lines = [
            f"[program:{self.name}]",
            f"command={_escape(shlex.join(self.command))}",
            f"directory={ROOT}",
            f"autostart={str(self.autostart).lower()}",
            "autorestart=true",
            "startsecs=2",
            "startretries=20",
            f"priority={self.priority}",
            f"stopsignal={self.stopsignal}",
            f"stopwaitsecs={self.stopwaitsecs}",
            "stopasgroup=true",
            "killasgroup=true",
            "redirect_stderr=true",
            "stdout_logfile=/dev/fd/1",
            "stdout_logfile_maxbytes=0",
        ]
        if self.user:
            lines.append(f"user={self.user}")
        if self.environment:
            pairs = ",".join(f'{key}="{_escape(value)}"' for key, value in self.environment.items())
            lines.append(f"environment={pairs}")
        return "\n".join(lines) + "\n"


def _escape(value: str) -> str:
    return value.replace("%", "%%").replace('"', '\\"')


def _secret_key(local: Path) -> str:
    path = local / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


def settings_environment(local: Path, address: str, database_url: str, redis_url: str) -> dict[str, str]:
    """What every process of the product gets: production settings for plain HTTP on this machine."""
    host = address.rsplit(":", 1)[0].strip("[]")
    hosts = {"localhost", "127.0.0.1", "[::1]", host if host not in ("0.0.0.0", "::") else "*"}  # noqa: S104
    return {
        "DJANGO_SETTINGS_MODULE": "coalition.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY") or _secret_key(local),
        "DJANGO_ALLOWED_HOSTS": os.environ.get("DJANGO_ALLOWED_HOSTS", ",".join(sorted(hosts))),
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_SECURE_COOKIES": "false",
        "DJANGO_SECURE_HSTS_SECONDS": "0",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "COALITION_ADDRESS": address,
        "COALITION_BASE_URL": os.environ.get("COALITION_BASE_URL", f"http://{address}"),
        "COALITION_LOCAL_DIR": str(local),
        "PYTHONUNBUFFERED": "1",
        # Each process's figures for /metrics, added up at the scrape (utilities.metrics); this node's own.
        "PROMETHEUS_MULTIPROC_DIR": str(local / "metrics"),
    }


def programs(local: Path, env: dict[str, str], postgres: embedded.EmbeddedPostgres | None,
             redis: embedded.EmbeddedRedis | None) -> list[Program]:
    python = sys.executable
    # Two nodes on one host are two Celery nodes (worker-8001@host, worker-8002@host), not one name twice.
    port = env["COALITION_ADDRESS"].rsplit(":", 1)[-1]
    node = f"-{port}" if port.isdigit() else ""
    found: list[Program] = []
    if postgres is not None:  # SIGINT: PostgreSQL's fast shutdown
        found.append(Program("postgres", postgres.command, autostart=True, user=postgres.user, priority=10,
                             stopsignal="INT"))
    if redis is not None:
        found.append(Program("redis", redis.command, autostart=True, priority=10))
    found += [
        # gunicorn's control socket in this node's folder, not the home folder every node on the machine shares.
        Program("web", [python, "-m", "gunicorn", "-c", str(ROOT / "coalition" / "gunicorn.conf.py"),
                        "--control-socket", str(local / "gunicorn.ctl"), "coalition.wsgi:application"],
                environment=env),
        Program("worker", [python, "-m", "celery", "-A", "coalition", "worker", "--loglevel=INFO", "-Q", "celery",
                           "--concurrency=2", "-n", f"worker{node}@%h"], environment=env, stopwaitsecs=60),
        # Imports one at a time (each within settings.IMPORT_TIME_LIMIT); the worker above never takes one.
        Program("imports-worker", [python, "-m", "celery", "-A", "coalition", "worker", "--loglevel=INFO",
                                   "-Q", "imports", "--concurrency=1", "-n", f"imports{node}@%h"], environment=env,
                stopwaitsecs=60),
        Program("beat", [python, "-m", "celery", "-A", "coalition", "beat", "--loglevel=INFO",
                         "--schedule", str(local / "celerybeat-schedule")], environment=env),
    ]
    return found


def write_configuration(local: Path, found: list[Program]) -> Path:
    folder = local / "supervisor"
    folder.mkdir(parents=True, exist_ok=True)
    socket_path = folder / "supervisor.sock"
    config = folder / "supervisord.conf"
    config.write_text(
        "[supervisord]\n"
        "nodaemon=true\n"
        + ("user=root\n" if os.geteuid() == 0 else "") +
        f"logfile={folder / 'supervisord.log'}\n"
        f"pidfile={folder / 'supervisord.pid'}\n"
        f"childlogdir={folder}\n"
        "loglevel=info\n\n"
        "[unix_http_server]\n"
        f"file={socket_path}\n"
        "chmod=0700\n\n"
        "[rpcinterface:supervisor]\n"
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n"
        "[supervisorctl]\n"
        f"serverurl=unix://{socket_path}\n\n"
        + "\n".join(program.section() for program in found)
    )
    return config


def supervisorctl(config: Path, *args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "supervisor.supervisorctl", "-c", str(config), *args],
                            capture_output=True, text=True, check=False)
    return result.stdout + result.stderr


def _wait(what: str, ready: object, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not ready():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} did not come up within {timeout:.0f} s; see the log above.")
        time.sleep(0.2)


def _tcp_answers(url: str, default_port: int) -> bool:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=1):
            return True
    except OSError:
        return False


def prepare(env: dict[str, str]) -> str:
    """Migrate, load the demo coalition with its accounts, collect the static files, queue the NATO brief."""
    os.environ.update(env)
    import django
    from django.core.management import call_command

    django.setup()
    from django.db import connections

    with one_node_at_a_time():
        call_command("migrate", interactive=False, verbosity=0)
        call_command("seed_demo", with_demo_users=True)
        call_command("collectstatic", interactive=False, verbosity=0)
        url = queue_demo_brief()
    connections.close_all()
    return url


# pg_advisory_lock's key for "a node is migrating and loading the demo": any fixed 64-bit number of our own.
PREPARE_LOCK = 0x636F616C6974  # "coalit"


@contextmanager
def one_node_at_a_time() -> Iterator[None]:
    """Hold PostgreSQL's advisory lock PREPARE_LOCK on a connection of its own while the body runs: two nodes
    started at the same moment against one database migrate and load the demo one after the other (the second
    finds everything done), never at once. The lock goes with its connection, so a node killed meanwhile
    releases it."""
    from django.db import connections

    default = connections["default"]
    holder = default.get_new_connection(default.get_connection_params())
    holder.autocommit = True
    try:
        with holder.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [PREPARE_LOCK])
            if not (cursor.fetchone() or (False,))[0]:
                print("Another node is migrating or loading the demo; waiting for it.", flush=True)
                cursor.execute("SELECT pg_advisory_lock(%s)", [PREPARE_LOCK])
        yield
    finally:
        holder.close()  # closing the session releases the lock, whatever happened


def queue_demo_brief() -> str:
    """Have the worker compile a brief of the seeded NATO meeting, once; return where to download it."""
    from meetings.demo import NATO_MEETING_TITLE
    from meetings.models import Brief, Meeting
    from meetings.services import brief_request

    meeting = Meeting.objects.get(title=NATO_MEETING_TITLE)
    brief = Brief.objects.filter(meeting=meeting).order_by("-number").first()
    if brief is None:
        brief = brief_request(actor=None, meeting=meeting, system=True)
    return f"/api/v1/briefs/{brief.pk}/pdf"


def main() -> int:
    local = embedded.local_dir()
    local.mkdir(parents=True, exist_ok=True)
    address = os.environ.get("COALITION_ADDRESS", "127.0.0.1:8000")
    postgres = None if os.environ.get("DATABASE_URL") else embedded.prepare_postgres(local)
    redis = None if os.environ.get("REDIS_URL") else embedded.prepare_redis(local)
    database_url = postgres.url if postgres else os.environ["DATABASE_URL"]
    redis_url = redis.url if redis else os.environ["REDIS_URL"]
    env = settings_environment(local, address, database_url, redis_url)
    shutil.rmtree(env["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)  # the figures start again with the node
    Path(env["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True)
    config = write_configuration(local, programs(local, env, postgres, redis))

    print(f"PostgreSQL: {embedded.describe(database_url)}\nRedis: {embedded.describe(redis_url)}", flush=True)
    supervisor = subprocess.Popen([sys.executable, "-m", "supervisor.supervisord", "-c", str(config)])

    def stop(signum: int, _frame: object) -> None:
        if supervisor.poll() is None:
            supervisor.send_signal(signal.SIGTERM)  # supervisord stops every program, then exits

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        if postgres is not None:
            _wait("PostgreSQL", postgres.answers)
            postgres.ensure_database()
        else:
            _wait("PostgreSQL", lambda: _tcp_answers(database_url, 5432))
        if redis is not None:
            _wait("Redis", redis.answers)
        brief_url = prepare(env)
        print(supervisorctl(config, "start", *PROCESSES), flush=True)
        print(f"\nOpen http://{address}/ (accounts and password in README.md). Ctrl-C stops.\n"
              f"The NATO ministerial's brief: http://{address}{brief_url} (as secretariat or analyst)\n"
              f"Processes: {sys.executable} -m supervisor.supervisorctl -c {config} status\n", flush=True)
    except BaseException:
        stop(signal.SIGTERM, None)
        supervisor.wait(60)
        raise
    return supervisor.wait()


if __name__ == "__main__":
    sys.exit(main())
