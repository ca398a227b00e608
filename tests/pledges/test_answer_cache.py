"""The live force picture kept per data version (pledges.answer_cache): a stored picture is only ever the one a
fresh computation would give, whoever reads and whatever was written since."""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg
import pytest
from django.core.cache import cache
from django.utils import timezone

from accounts.models import User
from pledges import answer_cache, services
from pledges.models import Pledge
from pledges.selectors import coalition_force
from tests.conftest import World, session_database_url
from tests.factories import make_pledge
from utilities.kept_answers import answer_key
from utilities.versioning import SystemActor


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    cache.clear()


def lines(picture: Any) -> list[tuple[Any, ...]]:
    return [(line.category, line.unit, line.requirement, line.confirmed, line.indicative, line.conditional,
             line.delivered, line.overdue, line.stale) for line in picture.categories]


def assert_as_fresh(world: World, user: Any) -> None:
    cached = coalition_force(coalition=world.coalition, user=user)
    fresh = coalition_force(coalition=world.coalition, user=user, fresh=True)
    assert lines(cached) == lines(fresh)
    assert [(c.country, c.category, c.confirmed, c.indicative) for c in cached.countries] == [
        (c.country, c.category, c.confirmed, c.indicative) for c in fresh.countries]


def test_a_stored_picture_is_read_back_and_every_kind_of_write_is_seen_next(
    world: World, django_assert_max_num_queries: Any
) -> None:
    pledge = make_pledge(country=world.pl, coalition=world.coalition, category=world.troops, quantity=300,
                         status="confirmed", releasability="coalition")
    first = coalition_force(coalition=world.coalition, user=world.analyst)
    with django_assert_max_num_queries(1):  # the data version only
        again = coalition_force(coalition=world.coalition, user=world.analyst)
    assert lines(again) == lines(first) and again.as_of >= first.as_of
    writes = [
        lambda: services.pledge_update(actor=world.ministry_pl, pledge=Pledge.objects.get(pk=pledge.pk),
                                       quantity=500),
        lambda: make_pledge(country=world.fr, coalition=world.coalition, category=world.troops, quantity=70,
                            status="indicative"),
        lambda: services.caveat_add(actor=world.ministry_pl, pledge=Pledge.objects.get(pk=pledge.pk),
                                    kind="condition", text="Only with a ceasefire."),
        lambda: services.delivery_plan(actor=world.ministry_pl, pledge=Pledge.objects.get(pk=pledge.pk),
                                       quantity=100, planned_on=timezone.localdate() - dt.timedelta(days=3)),
        lambda: services.requirement_set(actor=world.secretariat, coalition=world.coalition, category=world.troops,
                                         unit=world.personnel, quantity=5000),
        lambda: services.pledge_transition(actor=world.ministry_pl, pledge=Pledge.objects.get(pk=pledge.pk),
                                           to_status="withdrawn"),
    ]
    for write in writes:
        before = lines(coalition_force(coalition=world.coalition, user=world.analyst))
        write()
        assert lines(coalition_force(coalition=world.coalition, user=world.analyst)) != before
        assert_as_fresh(world, world.analyst)


def test_each_kind_of_reader_has_its_own_picture(world: World) -> None:
    make_pledge(country=world.pl, coalition=world.coalition, category=world.troops, quantity=300, status="confirmed")
    make_pledge(country=world.fr, coalition=world.coalition, category=world.troops, quantity=40, status="confirmed",
                releasability="coalition")
    for user in (world.analyst, world.ministry_fr, world.ministry_pl, world.ministry_fr, world.secretariat):
        assert_as_fresh(world, user)
    confirmed = {user.username: coalition_force(coalition=world.coalition, user=user).categories[0].confirmed
                 for user in (world.analyst, world.ministry_fr, world.ministry_gb)}
    assert confirmed == {"analyst": 340, "ministry-fr": 40, "ministry-gb": 40}


def test_reference_data_and_membership_changes_are_seen(world: World) -> None:
    make_pledge(country=world.fr, coalition=world.coalition, category=world.troops, quantity=40, status="confirmed",
                releasability="coalition")
    assert coalition_force(coalition=world.coalition, user=world.ministry_gb).categories[0].confirmed == 40
    world.troops.name = "Land forces"
    world.troops.save()
    assert coalition_force(coalition=world.coalition, user=world.analyst).categories[0].category_name == \
        "Land forces"
    world.gb.memberships.filter(coalition=world.coalition).get().delete()  # GB leaves the coalition
    ministry_gb = User.objects.get(pk=world.ministry_gb.pk)  # as the next request loads its user
    assert coalition_force(coalition=world.coalition, user=ministry_gb).categories == []


def test_while_another_writer_is_open_nothing_is_stored_or_read(world: World, django_assert_num_queries: Any,
                                                                 django_assert_max_num_queries: Any) -> None:
    """A history id is given at the write, not at the commit: while a transaction that has written is open, a
    change with a smaller id than the newest may still commit, so the version proves nothing."""
    make_pledge(country=world.pl, coalition=world.coalition, category=world.troops, quantity=300, status="confirmed")
    coalition_force(coalition=world.coalition, user=world.analyst)  # stored
    with psycopg.connect(session_database_url()) as other:
        other.execute("SELECT txid_current()")  # a transaction that has written (it holds a transaction id)
        with django_assert_max_num_queries(20) as computed:
            coalition_force(coalition=world.coalition, user=world.analyst)
        assert len(computed.captured_queries) > 5, "computed, not read from the cache"
        cache.clear()
        coalition_force(coalition=world.coalition, user=world.analyst)  # computed, and not stored
        other.rollback()
    with django_assert_max_num_queries(20) as after:
        coalition_force(coalition=world.coalition, user=world.analyst)
    assert len(after.captured_queries) > 5, "nothing was stored while the other writer was open"
    with django_assert_num_queries(1):  # read back: the data version only
        coalition_force(coalition=world.coalition, user=world.analyst)


def test_a_picture_lives_until_the_next_offer_turns_stale(world: World) -> None:
    pledge = make_pledge(country=world.pl, coalition=world.coalition, category=world.troops, quantity=300,
                         status="confirmed")
    services.pledge_reconfirm(actor=SystemActor("test"), system=True, pledge=pledge,
                              at=timezone.now() - dt.timedelta(days=180) + dt.timedelta(seconds=90))
    lifetime = answer_cache.lifetime(world.coalition.pk, timezone.now())
    assert dt.timedelta(seconds=60) < lifetime <= dt.timedelta(seconds=90)
    services.pledge_reconfirm(actor=world.ministry_pl, pledge=Pledge.objects.get(pk=pledge.pk))
    assert answer_cache.lifetime(world.coalition.pk, timezone.now()) <= answer_cache.LONGEST


def test_losing_redis_never_brings_an_earlier_data_version_back(world: World) -> None:
    """The reference data's part of the version lives in PostgreSQL: a Redis restart or eviction forgets kept
    answers, never which version is current (an earlier one coming back would serve answers from before)."""
    before = answer_cache.data_version()
    world.troops.name = "Land forces"
    world.troops.save()
    after = answer_cache.data_version()
    assert after is not None and after != before
    cache.clear()
    assert answer_cache.data_version() == after


def test_the_first_reference_change_on_a_new_sequence_moves_the_version(world: World) -> None:
    """A new sequence reads 1 both before and after its first nextval(): the first change after the migration
    must move the version all the same."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ALTER SEQUENCE pledges_reference_version RESTART")
    before = answer_cache.data_version()
    world.gb.memberships.filter(coalition=world.coalition).get().delete()
    assert answer_cache.data_version() != before


def test_an_answer_key_holds_everything_the_readers_rights_follow_from(world: World) -> None:
    version = answer_cache.data_version()
    assert version is not None

    def key(user: Any, media_type: str = "application/json") -> str:
        return answer_key(user, "http://testserver/api/v1/pledges/", "en-gb", media_type, version)

    analyst = User.objects.get(pk=world.analyst.pk)
    plain = key(analyst)
    analyst.is_superuser = True
    assert key(analyst) != plain
    analyst.is_superuser, analyst.role = False, "secretariat"
    assert key(analyst) != plain
    ministry = User.objects.get(pk=world.ministry_pl.pk)
    moved = key(ministry)
    ministry.country_id = world.fr.pk
    assert key(ministry) != moved
    assert key(world.analyst, "application/geo+json") != key(world.analyst)
