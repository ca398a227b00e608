"""The database itself refuses broken rows, whatever code writes them."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from pledges.models import Caveat, Pledge, Requirement
from tests.conftest import World
from tests.factories import CountryFactory, make_pledge
from utilities.versioning import SystemActor, history_context

TESTER = SystemActor("constraint-test")


def raw_update_refused(table: str, pk: int, assignment: str) -> bool:
    """An UPDATE by SQL, named in the history (so only the constraint under test can refuse it)."""
    try:
        with history_context(TESTER, "raw_sql"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"UPDATE {table} SET {assignment} WHERE id = %s", [pk])
    except IntegrityError as error:
        assert "pgh_context_id" not in str(error)
        return True
    return False


def test_a_change_that_names_no_one_is_refused(world: World) -> None:
    """Every history row names who or what made the change: a write outside any context is refused."""
    with pytest.raises(IntegrityError, match="pgh_context_id"), transaction.atomic():
        Requirement.objects.create(coalition=world.coalition, category=world.troops, unit=world.personnel,
                                   quantity=100)
    with history_context(TESTER, "named"):
        Requirement.objects.create(coalition=world.coalition, category=world.troops, unit=world.personnel,
                                   quantity=100)


@pytest.fixture
def pledge(world: World) -> Pledge:
    return make_pledge(country=world.pl, coalition=world.coalition, category=world.air, unit=world.aircraft,
                       quantity=6, status="indicative")


@pytest.mark.parametrize(
    "assignment",
    [
        "quantity = 0",
        "available_from = '2025-06-01', available_until = '2025-05-01'",
        "estimated_value_eur = -1",
        "status = 'lost'",
        "releasability = 'public'",
    ],
)
def test_pledge_check_constraints(pledge: Pledge, assignment: str) -> None:
    assert raw_update_refused("pledges_pledge", pledge.pk, assignment)
    pledge.refresh_from_db()
    assert pledge.quantity == 6 and pledge.status == "indicative"


def test_pledge_unit_must_belong_to_category(world: World, pledge: Pledge) -> None:
    # troops are counted in personnel only; aircraft is not a unit of troops
    assert raw_update_refused("pledges_pledge", pledge.pk, f"category_id = {world.troops.pk}")


def test_pledge_country_must_be_member_of_coalition(world: World, pledge: Pledge) -> None:
    outsider = CountryFactory(code="ZZ", name="Outsider")
    assert raw_update_refused("pledges_pledge", pledge.pk, f"country_id = {outsider.pk}")
    # US is in the contact group only
    assert raw_update_refused("pledges_pledge", pledge.pk, f"country_id = {world.us.pk}")


def test_caveat_on_a_pledge_must_name_that_pledges_country(world: World, pledge: Pledge) -> None:
    with history_context(TESTER, "raw"):
        caveat = Caveat.objects.create(country=world.pl, coalition=world.coalition, pledge=pledge, kind="condition",
                                       text="Only with a US backstop.")
    assert raw_update_refused("pledges_caveat", caveat.pk, f"country_id = {world.fr.pk}")


def test_caveat_lifted_needs_a_date_and_order(world: World) -> None:
    with history_context(TESTER, "raw"):
        caveat = Caveat.objects.create(country=world.pl, coalition=world.coalition, kind="no_deployment",
                                       text="No troops on Ukrainian soil.", imposed_on="2025-03-01")
    assert raw_update_refused("pledges_caveat", caveat.pk, "is_active = false")
    assert raw_update_refused("pledges_caveat", caveat.pk, "is_active = false, lifted_on = '2025-02-01'")
    assert raw_update_refused("pledges_caveat", caveat.pk, "kind = 'whim'")
    assert raw_update_refused("pledges_caveat", caveat.pk, "text = ''")


def test_requirement_constraints(world: World) -> None:
    with history_context(TESTER, "raw"):
        requirement = Requirement.objects.create(coalition=world.coalition, category=world.troops,
                                                 unit=world.personnel, quantity=100)
    assert raw_update_refused("pledges_requirement", requirement.pk, "quantity = 0")
    assert raw_update_refused("pledges_requirement", requirement.pk, f"unit_id = {world.aircraft.pk}")
    with pytest.raises(IntegrityError, match="requirement_unique"), history_context(TESTER, "raw"), \
            transaction.atomic():
        Requirement.objects.create(coalition=world.coalition, category=world.troops, unit=world.personnel,
                                   quantity=5)


def test_country_code_is_iso_alpha2(db: None) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        CountryFactory(code="pl", name="lower case")
