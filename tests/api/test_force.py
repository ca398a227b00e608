"""GET /coalitions/{id}/force/ equals a case computed by hand."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from pledges import services
from tests.conftest import World
from tests.factories import make_pledge


@pytest.fixture
def force_case(world: World) -> None:
    services.requirement_set(actor=world.secretariat, coalition=world.coalition, category=world.troops,
                             unit=world.personnel, quantity=1000)
    services.requirement_set(actor=world.secretariat, coalition=world.coalition, category=world.air,
                             unit=world.aircraft, quantity=24)
    c = world.coalition
    make_pledge(country=world.pl, coalition=c, category=world.troops, quantity=300, status="confirmed")
    make_pledge(country=world.fr, coalition=c, category=world.troops, quantity=200, status="indicative")
    gb = make_pledge(country=world.gb, coalition=c, category=world.troops, quantity=100, status="deployed")
    make_pledge(country=world.pl, coalition=c, category=world.troops, quantity=999)  # draft: never counted
    make_pledge(country=world.fr, coalition=c, category=world.troops, quantity=50, status="withdrawn")
    make_pledge(country=world.us, coalition=world.other_coalition, category=world.troops, quantity=700,
                status="confirmed")  # another coalition
    services.caveat_add(actor=world.ministry_gb, coalition=c, kind="condition", text="Only with a US backstop.")
    assert gb.pk


def test_force_totals_equal_the_hand_computed_case(world: World, force_case: None,
                                                   client_for: Callable[[str], APIClient]) -> None:
    response = client_for("analyst").get(f"/api/v1/coalitions/{world.coalition.pk}/force/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["coalition_id"] == world.coalition.pk
    lines = {(line["category"], line["unit"]): line for line in body["categories"]}
    troops = lines[("troops", "personnel")]
    # confirmed = PL 300 + GB 100 (deployed); indicative = FR 200; GB's 100 is conditional (country-wide caveat).
    assert {k: troops[k] for k in ("requirement", "confirmed", "deployed", "indicative", "conditional",
                                   "conditional_confirmed", "gap", "gap_without_conditional", "pledge_count")} == {
        "requirement": 1000, "confirmed": 400, "deployed": 100, "indicative": 200, "conditional": 100,
        "conditional_confirmed": 100, "gap": 600, "gap_without_conditional": 700, "pledge_count": 3,
    }
    air = lines[("air", "aircraft")]
    assert (air["requirement"], air["confirmed"], air["gap"], air["pledge_count"]) == (24, 0, 24, 0)
    countries = [(c["country"], c["confirmed"], c["indicative"], c["conditional"]) for c in body["countries"]]
    assert countries == [("FR", 0, 200, 0), ("PL", 300, 0, 0), ("GB", 100, 0, 100)]


def test_force_for_ministry_counts_only_what_they_see(world: World, force_case: None,
                                                      client_for: Callable[[str], APIClient]) -> None:
    body = client_for("ministry_fr").get(f"/api/v1/coalitions/{world.coalition.pk}/force/").json()
    troops = next(line for line in body["categories"] if line["category"] == "troops")
    assert (troops["confirmed"], troops["indicative"]) == (0, 200)  # only its own; the others are secretariat-only


def test_force_as_of_and_bad_input(world: World, force_case: None, client_for: Callable[[str], APIClient]) -> None:
    analyst = client_for("analyst")
    before = (timezone.now() - timezone.timedelta(days=1)).isoformat()
    body = analyst.get(f"/api/v1/coalitions/{world.coalition.pk}/force/", {"as_of": before}).json()
    assert body["categories"] == [] and body["countries"] == []
    bad = analyst.get(f"/api/v1/coalitions/{world.coalition.pk}/force/", {"as_of": "soon"})
    assert bad.status_code == 400 and "as_of" in bad.json()
    assert analyst.get("/api/v1/coalitions/999999/force/").status_code == 404
