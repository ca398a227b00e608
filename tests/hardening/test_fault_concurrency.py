"""Two concurrent transitions of one pledge, on two real connections: one wins, the other gets a clear error."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from pledges import services
from pledges.models import Pledge
from tests.conftest import World
from tests.factories import make_pledge
from utilities.versioning import StaleVersion

pytestmark = [pytest.mark.fault, pytest.mark.django_db(transaction=True)]


def test_concurrent_transitions_one_wins_the_other_is_refused(world: World) -> None:
    pledge = make_pledge(country=world.pl, coalition=world.coalition, category=world.troops,
                         unit=world.personnel, status="indicative")
    actor = world.ministry_pl
    first_holds_lock = threading.Event()
    outcome: dict[str, Any] = {}

    def first() -> None:
        try:
            with transaction.atomic():
                services.pledge_transition(actor=actor, pledge=pledge, to_status="confirmed")
                first_holds_lock.set()
                time.sleep(0.5)  # commit late: the second writer must wait on the row lock
            outcome["first"] = "ok"
        finally:
            first_holds_lock.set()
            connection.close()

    def second() -> None:
        first_holds_lock.wait(10)
        started = time.monotonic()
        try:
            services.pledge_transition(actor=actor, pledge=pledge, to_status="confirmed")
            outcome["second"] = "ok"
        except ValidationError as error:
            outcome["second"] = error.message_dict
        finally:
            outcome["second_waited"] = time.monotonic() - started
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert outcome["first"] == "ok"
    assert outcome["second"] == {"status": ["The pledge is already confirmed."]}
    assert outcome["second_waited"] >= 0.3  # it really waited for the first to commit
    pledge.refresh_from_db()
    assert (pledge.status, pledge.version) == ("confirmed", 2)  # created as indicative, confirmed once
    events = Pledge.pgh_event_model.objects.filter(pgh_obj_id=pledge.pk, status="confirmed")  # type: ignore[attr-defined]
    assert events.count() == 1


def test_concurrent_updates_with_the_same_version_one_is_stale(world: World) -> None:
    pledge = make_pledge(country=world.pl, coalition=world.coalition, category=world.troops,
                         unit=world.personnel, quantity=100, status="indicative")
    seen = pledge.version
    barrier = threading.Barrier(2)
    results: list[Any] = []
    lock = threading.Lock()

    def writer(quantity: int) -> None:
        try:
            barrier.wait(10)
            services.pledge_update(actor=world.ministry_pl, pledge=pledge, quantity=quantity, expected_version=seen)
            result: Any = quantity
        except StaleVersion as error:
            result = error
        finally:
            connection.close()
        with lock:
            results.append(result)

    threads = [threading.Thread(target=writer, args=(q,)) for q in (150, 175)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    winners = [r for r in results if isinstance(r, int)]
    stale = [r for r in results if isinstance(r, StaleVersion)]
    assert len(winners) == 1 and len(stale) == 1, results
    assert stale[0].current_version == seen + 1
    pledge.refresh_from_db()
    assert pledge.quantity == winners[0]  # the winner's write stands; the loser changed nothing
