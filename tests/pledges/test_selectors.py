"""As-of states, changes between moments, and the force totals, against histories built step by step.

transaction=True: each service call commits on its own, so its history rows carry their own time.
"""

from __future__ import annotations

import pytest
from django.utils import timezone

from pledges import services
from pledges.history import caveat_changes, pledge_changes
from pledges.selectors import coalition_force, pledge_list
from tests.conftest import World
from tests.factories import make_pledge

pytestmark = pytest.mark.django_db(transaction=True)


def test_as_of_returns_the_pledges_as_they_stood(world: World) -> None:
    pledge = make_pledge(country=world.pl, coalition=world.coalition, status="indicative", quantity=100)
    after_create = timezone.now()
    services.pledge_update(actor=world.ministry_pl, pledge=pledge, quantity=250)
    after_raise = timezone.now()
    services.pledge_transition(actor=world.ministry_pl, pledge=pledge, to_status="withdrawn")

    def state(moment: object) -> tuple[int, str] | None:
        rows = list(pledge_list(user=world.analyst, as_of=moment))
        return (rows[0].quantity, rows[0].status) if rows else None

    assert state(after_create) == (100, "indicative")
    assert state(after_raise) == (250, "indicative")
    assert state(timezone.now()) == (250, "withdrawn")


def test_a_draft_in_the_past_stays_hidden(world: World) -> None:
    pledge = make_pledge(country=world.pl, coalition=world.coalition, status="draft")
    while_draft = timezone.now()
    services.pledge_transition(actor=world.ministry_pl, pledge=pledge, to_status="indicative")
    assert not pledge_list(user=world.analyst, as_of=while_draft).exists()
    assert pledge_list(user=world.ministry_pl, as_of=while_draft).count() == 1
    assert pledge_list(user=world.analyst).count() == 1


def test_changes_since_a_moment(world: World) -> None:
    raised = make_pledge(country=world.pl, coalition=world.coalition, status="indicative", quantity=100)
    lowered = make_pledge(country=world.fr, coalition=world.coalition, status="confirmed", quantity=50)
    withdrawn = make_pledge(country=world.gb, coalition=world.coalition, status="indicative", quantity=10)
    untouched = make_pledge(country=world.gb, coalition=world.coalition, status="confirmed", quantity=7)
    offered_later = make_pledge(country=world.pl, coalition=world.coalition, status="draft", quantity=3)
    caveat = services.caveat_add(actor=world.ministry_fr, pledge=lowered, kind="condition", text="US backstop.")
    since = timezone.now()

    services.pledge_update(actor=world.ministry_pl, pledge=raised, quantity=180)
    services.pledge_update(actor=world.ministry_fr, pledge=lowered, quantity=40)
    services.pledge_transition(actor=world.ministry_gb, pledge=withdrawn, to_status="withdrawn")
    services.pledge_transition(actor=world.ministry_pl, pledge=offered_later, to_status="indicative")
    services.pledge_transition(actor=world.ministry_gb, pledge=untouched, to_status="deployed")
    services.caveat_lift(actor=world.ministry_fr, caveat=caveat)
    services.caveat_add(actor=world.ministry_pl, coalition=world.coalition, kind="no_deployment", text="No troops.")

    changes = {c.pledge_id: c for c in pledge_changes(user=world.analyst, since=since)}
    assert {pid: c.kind for pid, c in changes.items()} == {
        raised.pk: "raised", lowered.pk: "lowered", withdrawn.pk: "withdrawn", offered_later.pk: "new",
        untouched.pk: "status",
    }
    assert changes[raised.pk].fields == {"quantity": (100, 180)}
    assert (changes[untouched.pk].status_before, changes[untouched.pk].status_after) == ("confirmed", "deployed")
    assert {(c.kind, c.text) for c in caveat_changes(user=world.analyst, since=since)} == {
        ("lifted", "US backstop."), ("added", "No troops."),
    }
    # nothing changed after now
    assert pledge_changes(user=world.analyst, since=timezone.now()) == []


def test_force_totals_match_a_hand_computed_case(world: World) -> None:
    services.requirement_set(actor=world.secretariat, coalition=world.coalition, category=world.troops,
                             unit=world.personnel, quantity=1000)
    make_pledge(country=world.pl, coalition=world.coalition, status="confirmed", quantity=300)
    make_pledge(country=world.fr, coalition=world.coalition, status="deployed", quantity=200)
    conditional = make_pledge(country=world.gb, coalition=world.coalition, status="confirmed", quantity=150)
    services.caveat_add(actor=world.ministry_gb, pledge=conditional, kind="condition", text="US backstop.")
    make_pledge(country=world.gb, coalition=world.coalition, status="indicative", quantity=120)  # GB-wide below
    services.caveat_add(actor=world.ministry_gb, coalition=world.coalition, kind="geographic", text="West only.")
    make_pledge(country=world.pl, coalition=world.coalition, status="indicative", quantity=80)
    make_pledge(country=world.pl, coalition=world.coalition, status="draft", quantity=5000)  # never counted
    make_pledge(country=world.fr, coalition=world.coalition, status="withdrawn", quantity=999)  # never counted
    make_pledge(country=world.pl, coalition=world.coalition, category=world.air, unit=world.aircraft,
                status="confirmed", quantity=4)
    before_country_condition = timezone.now()
    services.caveat_add(actor=world.ministry_pl, coalition=world.coalition, kind="condition", text="Air cover.")

    force = coalition_force(coalition=world.coalition, user=world.analyst)
    troops = next(line for line in force.categories if line.category == "troops")
    # confirmed+deployed = 300 + 200 + 150; indicative = 120 + 80
    # conditional: GB's 150 (its own caveat) + all of PL's offers (country-wide condition): 300 + 80
    assert (troops.requirement, troops.confirmed, troops.deployed, troops.indicative) == (1000, 650, 200, 200)
    assert (troops.conditional, troops.conditional_confirmed) == (530, 450)
    assert (troops.gap, troops.gap_without_conditional) == (350, 800)
    air = next(line for line in force.categories if line.category == "air")
    assert (air.requirement, air.confirmed, air.conditional, air.gap) == (None, 4, 4, None)
    pl_troops = next(c for c in force.countries if c.country == "PL" and c.category == "troops")
    assert (pl_troops.confirmed, pl_troops.indicative, pl_troops.conditional) == (300, 80, 380)

    past = coalition_force(coalition=world.coalition, user=world.analyst, as_of=before_country_condition)
    past_troops = next(line for line in past.categories if line.category == "troops")
    assert (past_troops.confirmed, past_troops.conditional) == (650, 150)


def test_caveat_history_starts_for_others_when_the_pledge_is_offered(world: World) -> None:
    from pledges.history import caveat_versions

    draft = make_pledge(country=world.pl, coalition=world.coalition, status="draft", releasability="coalition")
    caveat = services.caveat_add(actor=world.ministry_pl, pledge=draft, kind="condition", text="DRAFT WORDING")
    services.caveat_update(actor=world.ministry_pl, caveat=caveat, text="Offered wording")
    services.pledge_transition(actor=world.ministry_pl, pledge=draft, to_status="indicative")
    services.caveat_update(actor=world.ministry_pl, caveat=caveat, text="Final wording")

    def texts(user: object) -> list[str]:
        return [version.row.text for version in caveat_versions(user=user, caveat_id=caveat.pk)]

    assert texts(world.ministry_pl) == ["DRAFT WORDING", "Offered wording", "Final wording"]
    # The wording current when the pledge was offered was seen from then on; the draft wording never.
    assert texts(world.analyst) == ["Offered wording", "Final wording"]
    assert texts(world.ministry_fr) == ["Offered wording", "Final wording"]
    assert texts(world.ministry_us) == []


def test_caveat_change_time_is_when_it_was_added_not_last_edited(world: World) -> None:
    since = timezone.now()
    caveat = services.caveat_add(actor=world.ministry_pl, coalition=world.coalition, kind="other", text="v1")
    added_at = caveat.created_at
    services.caveat_update(actor=world.ministry_pl, caveat=caveat, text="v2")
    [change] = caveat_changes(user=world.analyst, since=since)
    assert change.kind == "added" and change.text == "v2"
    assert abs((change.at - added_at).total_seconds()) < 0.5
