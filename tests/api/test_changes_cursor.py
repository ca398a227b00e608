"""GET /api/v1/pledges/changes/ in pages: a cursor walks one settled window; writes meanwhile change nothing."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from pledges import services
from pledges.history import caveat_changes, pledge_changes
from pledges.models import Pledge
from tests.conftest import World
from tests.factories import make_pledge

pytestmark = pytest.mark.django_db(transaction=True)


def walk(client: APIClient, params: dict[str, Any]) -> tuple[list[tuple[str, int]], list[dict[str, Any]]]:
    seen: list[tuple[str, int]] = []
    pages: list[dict[str, Any]] = []
    response = client.get("/api/v1/pledges/changes/", params)
    while True:
        assert response.status_code == 200, response.content
        body = response.json()
        pages.append(body)
        seen += [("pledges", c["pledge_id"]) for c in body["pledges"]]
        seen += [("caveats", c["caveat_id"]) for c in body["caveats"]]
        if not body["next"]:
            return seen, pages
        response = client.get(body["next"])


def test_pages_give_every_change_once_in_order(world: World, client_for: Callable[[str], APIClient]) -> None:
    since = timezone.now()
    for i in range(12):
        pledge = make_pledge(country=[world.pl, world.fr][i % 2], coalition=world.coalition, status="indicative")
        if i < 7:
            services.caveat_add(actor=pledge.country.staff.get(), pledge=pledge, kind="role", text=f"c{i}")
    client = client_for("analyst")
    whole = client.get("/api/v1/pledges/changes/", {"since": since.isoformat(), "page_size": 1000}).json()
    assert (len(whole["pledges"]), len(whole["caveats"]), whole["next"]) == (12, 7, None)
    seen, pages = walk(client, {"since": since.isoformat(), "page_size": 5})
    assert len(pages) == 4 and [len(p["pledges"]) + len(p["caveats"]) for p in pages] == [5, 5, 5, 4]
    expected = [("pledges", c["pledge_id"]) for c in whole["pledges"]] + [
        ("caveats", c["caveat_id"]) for c in whole["caveats"]]
    assert seen == expected
    assert {(p["since"], p["until"]) for p in pages} == {(whole["since"], pages[0]["until"])}


def test_a_walk_while_others_write_skips_and_repeats_nothing(world: World,
                                                            client_for: Callable[[str], APIClient]) -> None:
    """A writer keeps changing pledges and caveats during the walk, and one transaction that started before the
    walk commits in the middle of it (its history rows are dated at its start, before the walk's `until` if
    that were simply now)."""
    old = make_pledge(country=world.pl, coalition=world.coalition, status="indicative")  # before the window
    since = timezone.now()
    early = [make_pledge(country=world.pl, coalition=world.coalition, status="indicative") for _ in range(3)]
    for i in range(20):
        pledge = make_pledge(country=world.fr, coalition=world.coalition, status="indicative")
        services.caveat_add(actor=world.ministry_fr, pledge=pledge, kind="role", text=f"caveat {i}")
    holding, release, stop = threading.Event(), threading.Event(), threading.Event()

    def late_transaction() -> None:  # an older pledge changed, uncommitted until the walk is under way
        try:
            with transaction.atomic():
                services.pledge_update(actor=world.ministry_pl, pledge=old, quantity=999)
                holding.set()
                release.wait(30)
        finally:
            connection.close()

    written = [0]  # the writer's count, so the walk can wait for it to move rather than for a fixed time

    def writer() -> None:
        try:
            n = 0
            while not stop.is_set():
                pledge = make_pledge(country=world.gb, coalition=world.coalition, status="indicative")
                services.caveat_add(actor=world.ministry_gb, pledge=pledge, kind="role", text=f"later {n}")
                services.pledge_update(actor=world.ministry_pl, pledge=Pledge.objects.get(pk=early[1].pk),
                                       quantity=100 + n)
                n += 1
                written[0] = n
        finally:
            connection.close()

    late = threading.Thread(target=late_transaction)
    late.start()
    assert holding.wait(10)
    busy = threading.Thread(target=writer)
    busy.start()
    client = client_for("analyst")
    try:
        first = client.get("/api/v1/pledges/changes/", {"since": since.isoformat(), "page_size": 4}).json()
        release.set()  # the late transaction commits now, with rows dated before the walk started
        late.join(10)
        after_release = written[0]
        deadline = time.monotonic() + 30
        while written[0] < after_release + 2 and time.monotonic() < deadline:  # changes land during the walk
            time.sleep(0.01)
        seen = [("pledges", c["pledge_id"]) for c in first["pledges"]] + [
            ("caveats", c["caveat_id"]) for c in first["caveats"]]
        rest, _ = walk(client, {"cursor": first_cursor(first), "page_size": 4})
        seen += rest
    finally:
        stop.set()
        release.set()
        busy.join(30)
        late.join(30)
    until = timezone.datetime.fromisoformat(first["until"].replace("Z", "+00:00"))
    # The reference: the same window read once, after every writer stopped.
    reference = [("pledges", c.pledge_id) for c in pledge_changes(user=world.analyst, since=since, until=until)] + [
        ("caveats", c.caveat_id) for c in caveat_changes(user=world.analyst, since=since, until=until)]
    assert len(seen) == len(set(seen)), "a change repeated"
    assert seen == reference, "a change skipped"
    assert len(reference) >= 43  # 23 pledges and 20 caveats at least


def first_cursor(body: dict[str, Any]) -> str:
    from urllib.parse import parse_qs, urlsplit

    return parse_qs(urlsplit(body["next"]).query)["cursor"][0]


def test_a_bad_cursor_is_a_400_naming_it(world: World, client_for: Callable[[str], APIClient]) -> None:
    client = client_for("analyst")
    for cursor in ("nonsense", "eyJzaW5jZSI6IDF9:forged:sig"):
        response = client.get("/api/v1/pledges/changes/", {"cursor": cursor})
        assert response.status_code == 400 and "cursor" in response.json()
    assert "since" in client.get("/api/v1/pledges/changes/").json()
    assert "page_size" in client.get("/api/v1/pledges/changes/", {"since": "2020-01-01", "page_size": 0}).json()
