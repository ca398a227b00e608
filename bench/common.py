"""Shared set-up for the bench scripts: which database, and Django configured against it.

The benchmark runs against a dedicated PostgreSQL database (never the embedded
one in .local, never anyone's test database): DATABASE_URL when given, else
postgres://postgres@127.0.0.1:5432/coalition_bench_data. It runs with DEBUG off
(production shape: no query logging, no debug pages) and a throw-away secret key.
"""

from __future__ import annotations

import os
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/coalition_bench_data"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/4"
BENCH_SHORT_NAME = "BENCH"
BENCH_USER = "bench-analyst"
BENCH_PASSWORD = "bench-analyst-password-2025"


def bench_environment() -> dict[str, str]:
    """The environment the app (in-process or gunicorn) runs with during the benchmark."""
    env = dict(os.environ)
    env.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    env.setdefault("REDIS_URL", DEFAULT_REDIS_URL)
    env.setdefault("DJANGO_DEBUG", "false")
    env.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))
    env.setdefault("DJANGO_SECURE_SSL_REDIRECT", "false")  # loopback, no TLS terminator in front
    env.setdefault("DJANGO_LOG_LEVEL", "WARNING")
    env.setdefault("API_USER_RATE", "10000000/min")  # measure the app, not the per-user throttle (1200/min)
    env.setdefault("DJANGO_SETTINGS_MODULE", "coalition.settings")
    return env


def database_name(url: str) -> str:
    return url.rsplit("/", 1)[-1].split("?")[0]


def ensure_database(url: str) -> None:
    """Create the database named in `url` on its server if it does not exist yet."""
    name = database_name(url)
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(url: str) -> None:
    name = database_name(url)
    if "bench" not in name:
        raise SystemExit(f"Refusing to drop '{name}': --reset only drops a database whose name contains 'bench'.")
    admin_url = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def setup_django(*, migrate: bool = True) -> None:
    """Configure this process from bench_environment(), create the database if needed, migrate."""
    os.environ.update(bench_environment())
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    if migrate:
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=0)


def median_ms(call: Callable[[], Any], repeats: int) -> float:
    """The median of `repeats` timed calls in milliseconds, after one untimed call (connections, caches, plans)."""
    call()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)
