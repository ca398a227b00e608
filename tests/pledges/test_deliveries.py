"""Tranches and reconfirmation: the services, the database's own guard, and the figures read back."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from pledges import services
from pledges.models import Delivery, Pledge
from pledges.selectors import coalition_force, pledge_list
from tests.conftest import World
from tests.factories import make_pledge
from utilities.versioning import SystemActor, history_context

TODAY = dt.date.today


def plan(world: World, pledge: Pledge, quantity: int, planned_in: int = 10, delivered_in: int | None = None,
         **fields: object) -> Delivery:
    today = timezone.localdate()
    return services.delivery_plan(
        actor=world.ministry_pl, pledge=pledge, quantity=quantity, planned_on=today + dt.timedelta(days=planned_in),
        delivered_on=None if delivered_in is None else today + dt.timedelta(days=delivered_in), **fields)


@pytest.fixture
def offer(world: World) -> Pledge:
    return make_pledge(country=world.pl, coalition=world.coalition, quantity=10, status="confirmed")


def test_tranches_add_up_to_no_more_than_the_pledge(world: World, offer: Pledge) -> None:
    plan(world, offer, 4, -30, -29)
    plan(world, offer, 5, -5)
    with pytest.raises(ValidationError) as refused:
        plan(world, offer, 2)
    assert "at most 1" in str(refused.value.message_dict["quantity"])
    plan(world, offer, 1)
    with pytest.raises(ValidationError) as lowered:
        services.pledge_update(actor=world.ministry_pl, pledge=offer, quantity=9)
    assert "add up to 10" in str(lowered.value.message_dict["quantity"])
    row = pledge_list(user=world.analyst).get(pk=offer.pk)
    assert (row.delivered_quantity, row.overdue_quantity, row.has_overdue_delivery) == (4, 5, True)


@pytest.mark.parametrize(("field", "change", "message"), [
    ("quantity", {"quantity": 0}, "greater than or equal to 1"),
    ("delivered_on", {"delivered_in": 1}, "still to come"),
    ("planned_on", {"planned_in": -40000}, "between the years"),
])
def test_bad_tranches_are_refused_naming_the_field(world: World, offer: Pledge, field: str, change: dict,
                                                   message: str) -> None:
    arguments = {"quantity": 1, **change}
    with pytest.raises(ValidationError) as refused:
        plan(world, offer, **arguments)  # type: ignore[arg-type]
    assert message in " ".join(refused.value.message_dict[field])
    assert not Delivery.objects.exists()


@pytest.mark.parametrize("status", ["draft", "withdrawn"])
def test_a_tranche_only_on_an_offered_pledge(world: World, status: str) -> None:
    pledge = make_pledge(country=world.pl, coalition=world.coalition, status=status)
    with pytest.raises(ValidationError) as refused:
        plan(world, pledge, 1)
    assert "offered" in " ".join(refused.value.message_dict["pledge"])


def test_only_the_pledges_country_records_its_tranches(world: World, offer: Pledge) -> None:
    with pytest.raises(PermissionDenied):
        services.delivery_plan(actor=world.ministry_fr, pledge=offer, quantity=1, planned_on=timezone.localdate())
    tranche = plan(world, offer, 2)
    with pytest.raises(PermissionDenied):
        services.delivery_record(actor=world.ministry_fr, delivery=tranche)
    recorded = services.delivery_record(actor=world.ministry_pl, delivery=tranche)
    assert recorded.delivered_on == timezone.localdate() and recorded.version == 2
    with pytest.raises(ValidationError):
        services.delivery_record(actor=world.ministry_pl, delivery=tranche)


def test_the_database_refuses_tranches_over_the_pledge_whatever_writes_them(world: World, offer: Pledge) -> None:
    plan(world, offer, 8)
    with pytest.raises(IntegrityError, match="add up to more than"), \
            history_context(SystemActor("sql"), "raw"), transaction.atomic():
        Delivery.objects.create(pledge=offer, quantity=3, planned_on=timezone.localdate())
    with pytest.raises(IntegrityError, match="add up to more than"), \
            history_context(SystemActor("sql"), "raw"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE pledges_pledge SET quantity = 7 WHERE id = %s", [offer.pk])


@pytest.mark.django_db(transaction=True)
def test_concurrent_tranches_that_fit_alone_but_not_together(world: World) -> None:
    """Two writers each add 6 to a pledge of 10 at the same time: one succeeds, the other is refused."""
    offer = make_pledge(country=world.pl, coalition=world.coalition, quantity=10, status="confirmed")
    results: list[str] = []
    start = threading.Barrier(2)

    def add() -> None:
        try:
            start.wait()
            services.delivery_plan(actor=world.ministry_pl, pledge=offer, quantity=6, planned_on=timezone.localdate())
            results.append("ok")
        except (ValidationError, IntegrityError) as error:
            results.append(type(error).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=add) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["ValidationError", "ok"]
    assert sum(Delivery.objects.values_list("quantity", flat=True)) == 6


def test_offering_confirming_and_reconfirming_set_reconfirmed_at(world: World) -> None:
    draft = make_pledge(country=world.pl, coalition=world.coalition)
    assert draft.reconfirmed_at is None
    offered = services.pledge_transition(actor=world.ministry_pl, pledge=draft, to_status="indicative")
    first = offered.reconfirmed_at
    assert first is not None
    confirmed = services.pledge_transition(actor=world.ministry_pl, pledge=offered, to_status="confirmed")
    assert confirmed.reconfirmed_at > first
    again = services.pledge_reconfirm(actor=world.ministry_pl, pledge=confirmed)
    assert again.reconfirmed_at > confirmed.reconfirmed_at and again.version == confirmed.version + 1
    with pytest.raises(PermissionDenied):
        services.pledge_reconfirm(actor=world.ministry_fr, pledge=again)
    withdrawn = services.pledge_transition(actor=world.ministry_pl, pledge=again, to_status="withdrawn")
    with pytest.raises(ValidationError):
        services.pledge_reconfirm(actor=world.ministry_pl, pledge=withdrawn)


@pytest.mark.django_db(transaction=True)
def test_stale_follows_the_coalitions_reconfirm_days_and_the_moment_asked(world: World) -> None:
    offer = make_pledge(country=world.pl, coalition=world.coalition, quantity=100, status="confirmed")
    services.pledge_reconfirm(actor=SystemActor("test"), system=True, pledge=offer,
                              at=timezone.now() - dt.timedelta(days=200))
    before = timezone.now()
    assert pledge_list(user=world.analyst).get(pk=offer.pk).is_stale is True
    assert coalition_force(coalition=world.coalition, user=world.analyst).categories[0].stale == 100
    world.coalition.reconfirm_days = 365
    world.coalition.save()
    assert pledge_list(user=world.analyst).get(pk=offer.pk).is_stale is False
    world.coalition.reconfirm_days = 180
    world.coalition.save()
    services.pledge_reconfirm(actor=world.ministry_pl, pledge=offer)
    assert pledge_list(user=world.analyst).get(pk=offer.pk).is_stale is False
    assert pledge_list(user=world.analyst, as_of=before).get(id=offer.pk).is_stale is True  # as it stood


@pytest.mark.django_db(transaction=True)
def test_a_tranche_recorded_today_is_not_delivered_as_of_last_month(world: World) -> None:
    offer = make_pledge(country=world.pl, coalition=world.coalition, quantity=10, status="confirmed")
    tranche = plan(world, offer, 4, -40)  # planned 40 days ago: overdue now
    before_recording = timezone.now()
    services.delivery_record(actor=world.ministry_pl, delivery=tranche,
                             delivered_on=timezone.localdate() - dt.timedelta(days=30))
    now = coalition_force(coalition=world.coalition, user=world.analyst).categories[0]
    then = coalition_force(coalition=world.coalition, user=world.analyst, as_of=before_recording).categories[0]
    assert (now.delivered, now.overdue) == (4, 0)
    assert (then.delivered, then.overdue) == (0, 4)  # the record was made after that moment
