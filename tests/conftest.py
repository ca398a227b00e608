"""Shared fixtures. The database is PostgreSQL: DATABASE_URL when given, else the embedded server."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.conf import settings

from accounts.models import Role, User
from pledges.models import CapabilityCategory, Coalition, Country, Unit
from tests.factories import (
    CategoryFactory,
    CoalitionFactory,
    CountryFactory,
    UnitFactory,
    UserFactory,
    member,
    ministry_user,
)


def pytest_report_header(config: pytest.Config) -> list[str]:
    from coalition.embedded import describe

    return [f"database: {describe(settings.DATABASE_URL)}", f"redis: {describe(settings.REDIS_URL)}"]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """A plain closing line for CI: 'N passed, N failed, N skipped'."""
    stats = terminalreporter.stats
    passed = sum(1 for report in stats.get("passed", []) if report.when == "call")
    failed = len(stats.get("failed", [])) + len(stats.get("error", []))
    skipped = len(stats.get("skipped", []))
    terminalreporter.write_line(f"{passed} passed, {failed} failed, {skipped} skipped")


def _row_locks_only_on_their_own_table(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
    """FOR UPDATE with a join locks the joined rows too: a brief claim would skip a brief whose meeting
    another request holds, a requirement write would block pledges of its category. Every test runs under
    this check: a locking query either reads one table or says which (FOR UPDATE OF)."""
    text = sql if isinstance(sql, str) else str(sql)
    if "FOR UPDATE" in text and " JOIN " in text and "FOR UPDATE OF" not in text:
        raise AssertionError(f"a FOR UPDATE over a join locks the joined rows too; use of=('self',): {text}")
    return execute(sql, params, many, context)


@pytest.fixture(autouse=True)
def _english_unless_a_test_says_otherwise() -> Iterator[None]:
    """A request in French leaves French active in this thread (as LocaleMiddleware does between requests):
    each test starts in the default language, whatever ran before it."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _locks_stay_on_their_table(request: pytest.FixtureRequest) -> Iterator[None]:
    if "django_db_setup" not in request.fixturenames and not any(
        mark.name == "django_db" for mark in request.node.iter_markers()
    ):
        yield
        return
    from django.db import connection

    with connection.execute_wrapper(_row_locks_only_on_their_own_table):
        yield


def session_database_url() -> str:
    """The URL of the database this test session runs on, for the processes a test starts (a Celery
    worker, gunicorn): TCP for a server, the socket directory for the embedded one."""
    db = settings.DATABASES["default"]
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    if str(db.get("HOST", "")).startswith("/"):
        return f"postgres://{user}{password}@/{db['NAME']}?host={db['HOST']}"
    return f"postgres://{user}{password}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


@pytest.fixture
def gazetteer(db: None) -> None:
    """The GeoNames places, as migration places/0002 loads them: a test that flushed the database (transaction=True)
    empties the table, so tests that need places ask for it (it loads again, in a few seconds, when empty)."""
    from places.gazetteer import ensure_gazetteer

    ensure_gazetteer()


@dataclass
class World:
    """Two coalitions, four countries and a user of every role."""

    coalition: Coalition
    other_coalition: Coalition
    pl: Country
    fr: Country
    gb: Country
    us: Country  # member of other_coalition only
    troops: CapabilityCategory
    air: CapabilityCategory
    personnel: Unit
    aircraft: Unit
    ministry_pl: User
    ministry_fr: User
    ministry_gb: User
    ministry_us: User
    analyst: User
    secretariat: User
    admin: User


@pytest.fixture
def world(db: None) -> World:
    coalition = CoalitionFactory(name="Coalition of the willing", short_name="CotW")
    other = CoalitionFactory(name="Contact group", short_name="UDCG")
    pl, fr, gb, us = (CountryFactory(code=c, name=n) for c, n in
                      [("PL", "Poland"), ("FR", "France"), ("GB", "United Kingdom"), ("US", "United States")])
    for country in (pl, fr, gb):
        member(country, coalition)
        member(country, other)
    member(us, other)
    troops = CategoryFactory(code="troops", unit_codes=["personnel"])
    air = CategoryFactory(code="air", unit_codes=["aircraft", "personnel"])
    return World(
        coalition=coalition, other_coalition=other, pl=pl, fr=fr, gb=gb, us=us, troops=troops, air=air,
        personnel=UnitFactory(code="personnel"), aircraft=UnitFactory(code="aircraft"),
        ministry_pl=ministry_user(pl), ministry_fr=ministry_user(fr), ministry_gb=ministry_user(gb),
        ministry_us=ministry_user(us),
        analyst=UserFactory(username="analyst", role=Role.ANALYST),
        secretariat=UserFactory(username="secretariat", role=Role.SECRETARIAT),
        admin=UserFactory(username="admin", role=Role.ADMINISTRATOR, is_superuser=True),
    )
