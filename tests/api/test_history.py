"""as_of and changes against known histories.

pghistory stamps each event with its transaction's NOW(); these tests commit
every service call on its own (transaction=True) and note the moments between.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from pledges import services
from tests.conftest import World
from tests.factories import make_pledge

pytestmark = pytest.mark.django_db(transaction=True)


def q(moment: object) -> str:
    return str(moment).replace("+00:00", "Z").replace(" ", "T")


def test_as_of_shows_rows_as_they_stood(world: World, client_for: Callable[[str], APIClient]) -> None:
    analyst = client_for("analyst")
    t0 = timezone.now()
    pledge = make_pledge(country=world.pl, coalition=world.coalition, quantity=100)  # a draft: nobody else sees it
    t1 = timezone.now()
    pledge = services.pledge_transition(actor=world.ministry_pl, pledge=pledge, to_status="indicative")
    t2 = timezone.now()
    pledge = services.pledge_update(actor=world.ministry_pl, pledge=pledge, quantity=150)
    t3 = timezone.now()
    services.pledge_transition(actor=world.ministry_pl, pledge=pledge, to_status="confirmed")

    def seen(moment: object, query: str = "") -> list[tuple[int, str]]:
        response = analyst.get("/api/v1/pledges/", {"as_of": q(moment)} | ({"status": query} if query else {}))
        assert response.status_code == 200, response.content
        return [(row["quantity"], row["status"]) for row in response.json()["results"]]

    assert seen(t0) == []
    assert seen(t1) == []  # still a draft then
    assert seen(t2) == [(100, "indicative")]
    assert seen(t3) == [(150, "indicative")]
    assert seen(t3, "confirmed") == []
    assert [(r["quantity"], r["status"]) for r in analyst.get("/api/v1/pledges/").json()["results"]] == [
        (150, "confirmed")
    ]
    detail = analyst.get(f"/api/v1/pledges/{pledge.pk}/", {"as_of": q(t2)})
    assert detail.status_code == 200 and detail.json()["quantity"] == 100
    assert analyst.get(f"/api/v1/pledges/{pledge.pk}/", {"as_of": q(t0)}).status_code == 404
    # The owner saw the draft at t1.
    own = client_for("ministry_pl").get("/api/v1/pledges/", {"as_of": q(t1)}).json()["results"]
    assert [(r["quantity"], r["status"]) for r in own] == [(100, "draft")]


def test_as_of_conditional_follows_caveat_history(world: World, client_for: Callable[[str], APIClient]) -> None:
    analyst = client_for("analyst")
    pledge = make_pledge(country=world.gb, coalition=world.coalition, quantity=100, status="indicative")
    t1 = timezone.now()
    caveat = services.caveat_add(actor=world.ministry_gb, pledge=pledge, kind="condition", text="US backstop.")
    t2 = timezone.now()
    services.caveat_lift(actor=world.ministry_gb, caveat=caveat)

    def conditional(moment: object | None) -> list[bool]:
        params = {"as_of": q(moment)} if moment else {}
        return [r["is_conditional"] for r in analyst.get("/api/v1/pledges/", params).json()["results"]]

    assert conditional(t1) == [False]
    assert conditional(t2) == [True]
    assert conditional(None) == [False]
    assert analyst.get("/api/v1/pledges/", {"as_of": q(t2), "conditional": "true"}).json()["count"] == 1


def test_changes_field_by_field(world: World, client_for: Callable[[str], APIClient]) -> None:
    analyst = client_for("analyst")
    raised = make_pledge(country=world.pl, coalition=world.coalition, quantity=100, status="indicative")
    withdrawn = make_pledge(country=world.fr, coalition=world.coalition, quantity=50, status="confirmed")
    elsewhere = make_pledge(country=world.us, coalition=world.other_coalition, quantity=5, status="indicative")
    since = timezone.now()
    services.pledge_update(actor=world.ministry_pl, pledge=raised, quantity=180, location="Kyiv")
    services.pledge_transition(actor=world.ministry_fr, pledge=withdrawn, to_status="withdrawn")
    new = make_pledge(country=world.gb, coalition=world.coalition, quantity=30, status="indicative")
    make_pledge(country=world.gb, coalition=world.coalition, quantity=1)  # a draft: not news to an analyst
    services.pledge_update(actor=world.ministry_us, pledge=elsewhere, quantity=6)
    caveat = services.caveat_add(actor=world.ministry_gb, pledge=new, kind="condition", text="Air defence first.")
    until = timezone.now()
    services.pledge_update(actor=world.ministry_pl, pledge=raised, quantity=999)  # after `until`

    response = analyst.get("/api/v1/pledges/changes/", {"since": q(since), "until": q(until),
                                                        "coalition": world.coalition.pk})
    assert response.status_code == 200, response.content
    body = response.json()
    by_id = {c["pledge_id"]: c for c in body["pledges"]}
    assert set(by_id) == {raised.pk, withdrawn.pk, new.pk}
    assert by_id[raised.pk]["kind"] == "raised"
    assert by_id[raised.pk]["fields"] == {
        "quantity": {"before": 100, "after": 180}, "location": {"before": "", "after": "Kyiv"},
    }
    assert (by_id[withdrawn.pk]["kind"], by_id[withdrawn.pk]["status_before"], by_id[withdrawn.pk]["status_after"]) \
        == ("withdrawn", "confirmed", "withdrawn")
    assert (by_id[new.pk]["kind"], by_id[new.pk]["quantity_after"], by_id[new.pk]["country"]) == ("new", 30, "GB")
    assert [(c["caveat_id"], c["kind"], c["caveat_kind"]) for c in body["caveats"]] == [
        (caveat.pk, "added", "condition")
    ]

    everything = analyst.get("/api/v1/pledges/changes/", {"since": q(since)}).json()
    assert {c["pledge_id"] for c in everything["pledges"]} == {raised.pk, withdrawn.pk, new.pk, elsewhere.pk}
    assert {c["pledge_id"]: c["quantity_after"] for c in everything["pledges"]}[raised.pk] == 999


@pytest.mark.parametrize(("params", "field"), [
    ({}, "since"),
    ({"since": "last week"}, "since"),
    ({"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"}, "until"),
    ({"since": "2026-01-02T00:00:00Z", "coalition": "999999"}, "coalition"),
])
def test_changes_bad_input(world: World, client_for: Callable[[str], APIClient], params: dict[str, str],
                           field: str) -> None:
    response = client_for("analyst").get("/api/v1/pledges/changes/", params)
    assert response.status_code == 400 and field in response.json()
