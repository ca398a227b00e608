"""Writes: validation, who may act, every status move legal and illegal, history with the acting user."""

from __future__ import annotations

import itertools

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from pledges import services
from pledges.history import PledgeEvent
from pledges.models import Caveat, Pledge, PledgeStatus, Requirement
from tests.conftest import World
from tests.factories import make_pledge
from utilities.versioning import StaleVersion

STATUSES = list(PledgeStatus.values)
LEGAL = {
    ("draft", "indicative"),
    ("indicative", "confirmed"), ("indicative", "withdrawn"),
    ("confirmed", "deployed"), ("confirmed", "withdrawn"),
    ("deployed", "withdrawn"),
}


@pytest.mark.parametrize(("current", "target"), list(itertools.product(STATUSES, STATUSES)))
def test_every_status_move(world: World, current: str, target: str) -> None:
    pledge = make_pledge(country=world.pl, coalition=world.coalition, status=current)
    if (current, target) in LEGAL:
        moved = services.pledge_transition(actor=world.ministry_pl, pledge=pledge, to_status=target)
        assert moved.status == target
        assert Pledge.objects.get(pk=pledge.pk).status == target
    else:
        with pytest.raises(ValidationError) as error:
            services.pledge_transition(actor=world.ministry_pl, pledge=pledge, to_status=target)
        assert "status" in error.value.message_dict
        assert Pledge.objects.get(pk=pledge.pk).status == current


def test_illegal_move_message_names_the_way_forward(world: World) -> None:
    pledge = make_pledge(country=world.pl, coalition=world.coalition, status="draft")
    with pytest.raises(ValidationError) as error:
        services.pledge_transition(actor=world.ministry_pl, pledge=pledge, to_status="deployed")
    assert error.value.message_dict["status"] == [
        "A pledge cannot move from draft to deployed. From draft it can go to: indicative."
    ]


def test_create_fixes_country_to_the_ministry_users_own(world: World) -> None:
    pledge = services.pledge_create(actor=world.ministry_fr, coalition=world.coalition, category=world.troops,
                                    unit=world.personnel, quantity=800)
    assert pledge.country == world.fr and pledge.status == "draft" and pledge.version == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"quantity": 0}, "quantity"),
        ({"unit": "aircraft"}, "unit"),  # aircraft is not a unit of troops
        ({"available_from": "2025-06-02", "available_until": "2025-06-01"}, "available_until"),
        ({"status": "confirmed"}, "status"),
        ({"coalition": "other"}, "coalition"),  # FR is a member, but not of a coalition FR is not in: see below
    ],
)
def test_create_rejects_bad_input_and_writes_nothing(world: World, changes: dict, field: str) -> None:
    import datetime as dt

    values: dict = {"coalition": world.coalition, "category": world.troops, "unit": world.personnel, "quantity": 5}
    for key, value in changes.items():
        if key == "unit":
            value = world.aircraft
        elif key == "coalition":
            from tests.factories import CoalitionFactory

            value = CoalitionFactory()
        elif key.startswith("available"):
            value = dt.date.fromisoformat(value)
        values[key] = value
    with pytest.raises(ValidationError) as error:
        services.pledge_create(actor=world.ministry_fr, **values)
    assert field in error.value.message_dict
    assert not Pledge.objects.exists()
    assert not PledgeEvent.objects.exists()


def test_only_the_owner_country_may_write(world: World) -> None:
    pledge = make_pledge(country=world.pl, coalition=world.coalition, status="indicative")
    for outsider in (world.ministry_fr, world.analyst, world.secretariat, world.admin):
        with pytest.raises(PermissionDenied):
            services.pledge_update(actor=outsider, pledge=pledge, quantity=1)
        with pytest.raises(PermissionDenied):
            services.pledge_transition(actor=outsider, pledge=pledge, to_status="confirmed")
        with pytest.raises(PermissionDenied):
            services.caveat_add(actor=outsider, pledge=pledge, kind="condition", text="x")
    with pytest.raises(PermissionDenied):
        services.pledge_create(actor=world.ministry_fr, country=world.pl, coalition=world.coalition,
                               category=world.troops, unit=world.personnel, quantity=1)
    assert Pledge.objects.get(pk=pledge.pk).quantity == 100


def test_stale_version_changes_nothing(world: World) -> None:
    pledge = make_pledge(country=world.pl, coalition=world.coalition, status="indicative")
    services.pledge_update(actor=world.ministry_pl, pledge=pledge, expected_version=pledge.version, quantity=150)
    with pytest.raises(StaleVersion):
        services.pledge_update(actor=world.ministry_pl, pledge=pledge, expected_version=pledge.version, quantity=9)
    with pytest.raises(StaleVersion):
        services.pledge_transition(actor=world.ministry_pl, pledge=pledge, to_status="confirmed",
                                   expected_version=pledge.version)
    fresh = Pledge.objects.get(pk=pledge.pk)
    assert (fresh.quantity, fresh.status, fresh.version) == (150, "indicative", pledge.version + 1)


def test_withdrawn_pledge_is_final(world: World) -> None:
    pledge = make_pledge(country=world.pl, coalition=world.coalition, status="withdrawn")
    with pytest.raises(ValidationError):
        services.pledge_update(actor=world.ministry_pl, pledge=pledge, quantity=5)


def test_only_drafts_are_deleted(world: World) -> None:
    offered = make_pledge(country=world.pl, coalition=world.coalition, status="indicative")
    with pytest.raises(ValidationError):
        services.pledge_delete(actor=world.ministry_pl, pledge=offered)
    draft = make_pledge(country=world.pl, coalition=world.coalition, status="draft")
    services.caveat_add(actor=world.ministry_pl, pledge=draft, kind="role", text="Training only.")
    services.pledge_delete(actor=world.ministry_pl, pledge=draft)
    assert list(Pledge.objects.all()) == [offered]
    assert PledgeEvent.objects.filter(pgh_obj_id=draft.pk, pgh_label="delete").exists()


def test_caveat_add_and_lift(world: World) -> None:
    caveat = services.caveat_add(actor=world.ministry_pl, coalition=world.coalition, kind="no_deployment",
                                 text="No troops on Ukrainian soil.", rationale="Threat from Belarus.")
    assert caveat.country == world.pl and caveat.pledge is None and caveat.is_active
    lifted = services.caveat_lift(actor=world.ministry_pl, caveat=caveat)
    assert not lifted.is_active and lifted.lifted_on is not None
    with pytest.raises(ValidationError):
        services.caveat_lift(actor=world.ministry_pl, caveat=caveat)
    with pytest.raises(ValidationError):
        services.caveat_add(actor=world.ministry_pl, coalition=world.coalition, kind="nonsense", text="x")
    with pytest.raises(ValidationError):
        services.caveat_add(actor=world.ministry_us, coalition=world.coalition, kind="other", text="not a member")
    assert Caveat.objects.count() == 1


def test_requirement_set_is_secretariat_only_and_upserts(world: World) -> None:
    with pytest.raises(PermissionDenied):
        services.requirement_set(actor=world.ministry_pl, coalition=world.coalition, category=world.troops,
                                 unit=world.personnel, quantity=100)
    first = services.requirement_set(actor=world.secretariat, coalition=world.coalition, category=world.troops,
                                     unit=world.personnel, quantity=100)
    second = services.requirement_set(actor=world.secretariat, coalition=world.coalition, category=world.troops,
                                      unit=world.personnel, quantity=120)
    assert first.pk == second.pk and Requirement.objects.get().quantity == 120
    with pytest.raises(ValidationError) as error:
        services.requirement_set(actor=world.secretariat, coalition=world.coalition, category=world.troops,
                                 unit=world.aircraft, quantity=1)
    assert "unit" in error.value.message_dict


def test_history_keeps_who_before_and_after(world: World) -> None:
    pledge = make_pledge(country=world.pl, coalition=world.coalition, status="indicative", quantity=100)
    services.pledge_update(actor=world.ministry_pl, pledge=pledge, quantity=140)
    events = list(PledgeEvent.objects.filter(pgh_obj_id=pledge.pk).order_by("pgh_id").select_related("pgh_context"))
    assert [e.pgh_label for e in events] == ["insert", "update"]
    assert [e.quantity for e in events] == [100, 140]
    assert events[-1].pgh_context.metadata["username"] == "ministry-pl"
    assert events[-1].pgh_context.metadata["user"] == world.ministry_pl.pk


def test_caveat_dates_are_bounded(world: World) -> None:
    import datetime as dt

    from django.utils import timezone

    today = timezone.localdate()
    with pytest.raises(ValidationError) as error:
        services.caveat_add(actor=world.ministry_pl, coalition=world.coalition, kind="other", text="x",
                            imposed_on=dt.date(9999, 12, 31))
    assert "imposed_on" in error.value.message_dict
    caveat = services.caveat_add(actor=world.ministry_pl, coalition=world.coalition, kind="other", text="x",
                                 imposed_on=today - dt.timedelta(days=10))
    with pytest.raises(ValidationError) as error:
        services.caveat_lift(actor=world.ministry_pl, caveat=caveat, lifted_on=today + dt.timedelta(days=1))
    assert "lifted_on" in error.value.message_dict
    with pytest.raises(ValidationError):
        services.caveat_lift(actor=world.ministry_pl, caveat=caveat, lifted_on=today - dt.timedelta(days=11))
    assert Caveat.objects.get(pk=caveat.pk).is_active
