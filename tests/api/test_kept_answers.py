"""Live answers kept per data version and reader (pledges.answer_cache, pledges.api.views.KeptAnswers): the pledge
list pages, the force picture and the map are read back instead of computed while nothing they depend on
changed, answer 304 to a client holding the current ETag, and are only ever sent to the reader they were
computed for."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from places import services as places
from pledges import services
from pledges.models import Pledge
from tests.conftest import World, session_database_url
from tests.factories import make_pledge
from tests.http import content_of
from utilities.versioning import SystemActor

pytestmark = pytest.mark.usefixtures("gazetteer")

Clients = Callable[[str], APIClient]


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    cache.clear()


def get(client: APIClient, url: str, **headers: str) -> tuple[Any, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, headers=headers)
        content_of(response)  # a streamed CSV reads its rows as it is sent
    return response, len(queries.captured_queries)


def fresh(client: APIClient, url: str) -> Any:
    """The answer computed now, whatever is kept."""
    cache.clear()
    response = client.get(url)
    assert response.status_code == 200
    return content(response.content)


def content(body: bytes) -> Any:
    """An answer without its `as_of`: a kept force picture or map says when it was computed (nothing in it has
    changed since), a fresh one says now."""
    answer = json.loads(body)
    if isinstance(answer, dict):
        answer.pop("as_of", None)
    return answer


def test_a_page_asked_again_is_read_back_and_a_client_holding_its_etag_gets_a_304(
        world: World, client_for: Clients) -> None:
    make_pledge(country=world.pl, coalition=world.coalition, category=world.troops, status="indicative",
                releasability="coalition")
    client = client_for("analyst")
    url = f"/api/v1/pledges/?coalition={world.coalition.pk}&page_size=10"
    first, computed = get(client, url)
    assert first.status_code == 200 and computed > 2
    etag = first["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    assert "private" in first["Cache-Control"] and "no-cache" in first["Cache-Control"]
    assert "Authorization" in first["Vary"]
    again, read_back = get(client, url)
    assert (again.status_code, again.content, again["ETag"], read_back) == (200, first.content, etag, 1)
    assert again["Content-Type"] == first["Content-Type"] == "application/json"
    unchanged, _ = get(client, url, **{"If-None-Match": etag})
    assert (unchanged.status_code, unchanged.content, unchanged["ETag"]) == (304, b"", etag)
    assert get(client, url, **{"If-None-Match": '"something-else"'})[0].status_code == 200
    # another address is another answer
    other, _ = get(client, url + "&ordering=-quantity")
    assert other.status_code == 200 and other["ETag"] != etag


def test_every_kind_of_write_is_seen_by_the_next_read(world: World, client_for: Clients) -> None:
    pledge = make_pledge(country=world.pl, coalition=world.coalition, category=world.troops, status="confirmed",
                         quantity=300, releasability="coalition")
    client = client_for("analyst")
    urls = [f"/api/v1/pledges/?coalition={world.coalition.pk}", f"/api/v1/pledges/{pledge.pk}/",
            f"/api/v1/coalitions/{world.coalition.pk}/force/", f"/api/v1/coalitions/{world.coalition.pk}/map/"]
    kyiv = places.place_add(actor=world.admin, name="Kyiv forward base", country_code="UA", latitude=50.45,
                            longitude=30.52)

    def writes() -> list[Callable[[], Any]]:
        def current() -> Pledge:
            return Pledge.objects.get(pk=pledge.pk)
        return [
            lambda: services.pledge_update(actor=world.ministry_pl, pledge=current(), quantity=350),
            lambda: services.pledge_update(actor=world.ministry_pl, pledge=current(), place=kyiv),
            lambda: services.caveat_add(actor=world.ministry_pl, pledge=current(), kind="condition",
                                        text="Only with air cover.", releasability="coalition"),
            lambda: services.delivery_plan(actor=world.ministry_pl, pledge=current(), quantity=100,
                                           planned_on=dt.date(2025, 1, 1), delivered_on=dt.date(2025, 1, 2),
                                           note="First"),
            lambda: services.requirement_set(actor=world.secretariat, coalition=world.coalition,
                                             category=world.troops, unit=world.personnel, quantity=1000),
            lambda: places.place_update(actor=world.admin, place=kyiv, name="Kyiv airfield", country_code="UA",
                                        latitude=50.45, longitude=30.52),
            lambda: services.pledge_transition(actor=world.ministry_pl, pledge=current(), to_status="withdrawn"),
        ]

    for write in writes():
        before = {url: client.get(url) for url in urls}
        for url in urls:
            assert client.get(url).content == before[url].content  # read back
        write()
        changed = 0
        for url in urls:
            after = client.get(url)
            assert after.status_code == 200
            assert content(after.content) == fresh(client, url), (write, url)
            if after.content != before[url].content:
                changed += 1
                if "/pledges/?" not in url and "/coalitions/" not in url:
                    continue  # a pledge's own ETag is its version, for If-Match
                assert after.get("ETag") != before[url].get("ETag")
                assert client.get(url, headers={"If-None-Match": before[url]["ETag"]}).status_code == 200
        assert changed, "every write changes something the reader sees"


def test_one_readers_answer_is_never_sent_to_another(world: World, client_for: Clients) -> None:
    draft = make_pledge(country=world.fr, coalition=world.coalition, category=world.troops, quantity=77,
                        description="French draft")
    make_pledge(country=world.pl, coalition=world.coalition, category=world.troops, status="indicative",
                releasability="coalition", description="Polish offer")
    url = f"/api/v1/pledges/?coalition={world.coalition.pk}"
    france = client_for("ministry_fr").get(url)
    assert draft.pk in [row["id"] for row in france.json()["results"]]
    for role in ("ministry_pl", "ministry_gb", "analyst", "secretariat", "admin"):
        client = client_for(role)
        for _ in range(2):  # computed, then read back
            answer = client.get(url)
            assert draft.pk not in [row["id"] for row in answer.json()["results"]], role
            assert b"French draft" not in answer.content
        # France's ETag names France's answer: no one else gets a 304 (which would confirm its content) for it
        assert client.get(url, headers={"If-None-Match": france["ETag"]}).status_code == 200


def test_the_force_picture_and_the_map_are_kept_per_reader_too(world: World, client_for: Clients) -> None:
    make_pledge(country=world.fr, coalition=world.coalition, category=world.troops, status="indicative",
                quantity=40)  # released to the secretariat only
    for path in ("force", "map"):
        url = f"/api/v1/coalitions/{world.coalition.pk}/{path}/"
        analyst, _ = get(client_for("analyst"), url)
        again, queries = get(client_for("analyst"), url)
        assert again.content == analyst.content and queries == 2  # the coalition, the data version
        assert get(client_for("analyst"), url, **{"If-None-Match": analyst["ETag"]})[0].status_code == 304
        poland = client_for("ministry_pl").get(url)
        assert poland.content != analyst.content and poland["ETag"] != analyst["ETag"]
        assert content(poland.content) == fresh(client_for("ministry_pl"), url)
    # a coalition the reader is not in stays a 404, kept answers or not
    outsider = client_for("ministry_us")
    assert outsider.get(f"/api/v1/coalitions/{world.coalition.pk}/force/").status_code == 404


def test_nothing_is_kept_or_read_back_while_another_writer_is_open(world: World, client_for: Clients) -> None:
    make_pledge(country=world.pl, coalition=world.coalition, category=world.troops, status="indicative",
                releasability="coalition")
    client = client_for("analyst")
    url = "/api/v1/pledges/"
    assert get(client, url)[0].status_code == 200  # kept
    with psycopg.connect(session_database_url()) as other:
        other.execute("SELECT txid_current()")  # a transaction that has written: its rows may yet commit
        for _ in range(2):
            answer, queries = get(client, url)
            assert answer.status_code == 200 and queries > 1 and not answer.has_header("ETag")
        other.rollback()
    assert get(client, url)[1] == 1


def test_a_download_an_earlier_moment_and_a_refusal_are_not_kept(world: World, client_for: Clients) -> None:
    make_pledge(country=world.pl, coalition=world.coalition, category=world.troops, status="indicative",
                releasability="coalition")
    client = client_for("analyst")
    for url in ("/api/v1/pledges/?format=csv", "/api/v1/pledges/?as_of=2999-01-01T00:00:00Z",
                f"/api/v1/coalitions/{world.coalition.pk}/force/?as_of=2999-01-01T00:00:00Z"):
        first, computed = get(client, url)
        again, queries = get(client, url)
        assert first.status_code == again.status_code == 200 and queries == computed, url
        assert not again.has_header("ETag") or url.startswith("/api/v1/pledges/?format")
    refused, _ = get(client, "/api/v1/pledges/?page_size=0")
    assert refused.status_code == 400 and "page_size" in refused.json()
    assert get(client, "/api/v1/pledges/?page_size=0", **{"If-None-Match": "*"})[0].status_code == 400


def test_an_answer_the_clock_changed_gets_a_new_etag(world: World, client_for: Clients) -> None:
    """An offer turns stale with the clock, not with a write: the kept answer ends then, and the answer computed
    after it (same address, same data version) has another ETag, so a client holding the earlier one gets it."""
    pledge = make_pledge(country=world.pl, coalition=world.coalition, category=world.troops, status="confirmed",
                         releasability="coalition")
    stale_at = timezone.now() + dt.timedelta(seconds=3)
    services.pledge_reconfirm(actor=SystemActor("test"), system=True, pledge=pledge,
                              at=stale_at - dt.timedelta(days=world.coalition.reconfirm_days))
    client = client_for("analyst")
    url = f"/api/v1/pledges/?coalition={world.coalition.pk}"
    fresh_offer = client.get(url)
    assert timezone.now() < stale_at, "the machine took the whole margin: the first answer came too late to test"
    assert [row["is_stale"] for row in fresh_offer.json()["results"]] == [False]
    while timezone.now() <= stale_at:  # the clock, not a write, is what changes the answer
        time.sleep(0.1)
    stale_offer = client.get(url, headers={"If-None-Match": fresh_offer["ETag"]})
    assert stale_offer.status_code == 200
    assert [row["is_stale"] for row in stale_offer.json()["results"]] == [True]
    assert stale_offer["ETag"] != fresh_offer["ETag"]


def test_each_media_type_is_its_own_answer(world: World, client_for: Clients) -> None:
    make_pledge(country=world.pl, coalition=world.coalition, category=world.troops, status="confirmed",
                releasability="coalition")
    client = client_for("analyst")
    url = f"/api/v1/coalitions/{world.coalition.pk}/map/"
    for _ in range(2):  # computed, then read back
        geo = client.get(url)
        plain = client.get(url, headers={"Accept": "application/json"})
        assert geo["Content-Type"] == "application/geo+json"
        assert plain["Content-Type"] == "application/json"
