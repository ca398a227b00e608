"""The dashboard's actions: ministry staff see their country's open actions (overdue first), the secretariat every
overdue action with its owner; analysts neither."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from outcomes import services
from tests.conftest import World
from tests.outcomes.conftest import Outcomes, record_outcomes

pytestmark = pytest.mark.django_db


@pytest.fixture
def outcomes(world: World) -> Outcomes:
    return record_outcomes(world)


def page_for(world: World, role: str) -> str:
    client = Client()
    client.force_login(getattr(world, role))
    response = client.get("/")
    assert response.status_code == 200
    return response.content.decode()


def test_ministry_staff_see_their_countrys_open_actions_overdue_first(world: World, outcomes: Outcomes) -> None:
    services.outcome_record(actor=world.secretariat, meeting=outcomes.meeting, kind="action", owner=world.pl,
                            text="Open the rail corridor.", due_on=timezone.localdate() + dt.timedelta(days=9))
    services.outcome_record(actor=world.secretariat, meeting=outcomes.meeting, kind="action", owner=world.pl,
                            text="Send the liaison officers.", due_on=timezone.localdate(), status="done")
    page = page_for(world, "ministry_pl")
    assert "Poland&#x27;s open actions" in page or "Poland's open actions" in page
    assert page.index("Confirm the logistics hub at Rzeszów.") < page.index("Open the rail corridor.")
    assert 'class="action action-overdue"' in page and "Send the liaison officers." not in page
    assert f"/admin/outcomes/ouraction/{outcomes.pl_action.pk}/change/" in page
    assert "Table the air policing plan." not in page  # France's
    assert " style=" not in page.split('id="actions"')[1].split("</section>")[0]  # the CSP: classes only


def test_the_secretariat_sees_every_overdue_action_with_its_owner(world: World, outcomes: Outcomes) -> None:
    page = page_for(world, "secretariat")
    panel = page.split('id="actions"')[1].split("</section>")[0]
    assert "Overdue actions" in panel and "Confirm the logistics hub at Rzeszów." in panel and "Poland" in panel
    assert "Table the air policing plan." not in panel  # not overdue
    assert 'id="actions"' not in page_for(world, "analyst")


def test_the_panel_reads_in_french(world: World, outcomes: Outcomes) -> None:
    world.secretariat.preferred_language = "fr"
    world.secretariat.save()
    client = Client()
    client.force_login(world.secretariat)
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    panel = page.split('id="actions"')[1].split("</section>")[0]
    assert "Actions en retard" in panel and "en retard" in panel
