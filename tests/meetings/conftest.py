"""Meetings built through the services, and API clients per role."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from meetings import services
from meetings.models import Meeting
from pledges import services as pledge_services
from tests.conftest import World
from tests.factories import make_pledge

API_URLCONF = "tests.meetings.urls"


def client_for(user: User | None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def upcoming_meeting(world: World, *, days: float = 7, title: str = "Defence ministers") -> Meeting:
    starts = timezone.now() + dt.timedelta(days=days)
    meeting = services.meeting_create(
        actor=world.secretariat, coalition=world.coalition, title=title, starts_at=starts,
        ends_at=starts + dt.timedelta(hours=6), time_zone="Europe/Brussels", place="NATO Headquarters, Brussels",
        chairs=[world.fr, world.gb],
    )
    for country, status in ((world.pl, "confirmed"), (world.fr, "confirmed"), (world.gb, "declined")):
        services.invitation_set(actor=world.secretariat, meeting=meeting, country=country, status=status,
                                head_of_delegation=f"Minister of {country.name}", level="minister")
    services.agenda_item_add(actor=world.secretariat, meeting=meeting, title="Force requirement and force picture")
    services.agenda_item_add(actor=world.secretariat, meeting=meeting, title="National caveats")
    return meeting


def pledges_with_caveats(world: World) -> None:
    """PL 1,200 troops confirmed; FR 800 troops indicative under a condition; GB 12 aircraft confirmed;
    a requirement of 5,000 troops; a PL draft that no brief may show."""
    make_pledge(country=world.pl, coalition=world.coalition, category=world.troops, unit=world.personnel,
                quantity=1200, status="confirmed", description="Logistics battalion")
    fr = make_pledge(country=world.fr, coalition=world.coalition, category=world.troops, unit=world.personnel,
                     quantity=800, status="indicative", description="Armoured battlegroup")
    pledge_services.caveat_add(actor=world.ministry_fr, pledge=fr, kind="condition",
                               text="Only once a ceasefire is in force.", rationale="Parliamentary mandate.")
    make_pledge(country=world.gb, coalition=world.coalition, category=world.air, unit=world.aircraft,
                quantity=12, status="confirmed", description="Typhoon detachment")
    pledge_services.caveat_add(actor=world.ministry_pl, country=world.pl, coalition=world.coalition,
                               kind="no_deployment", text="No Polish troops on Ukrainian territory.",
                               rationale="Threat from Belarus.")
    make_pledge(country=world.pl, coalition=world.coalition, category=world.air, unit=world.aircraft,
                quantity=77, status="draft", description="Secret draft squadron")
    pledge_services.requirement_set(actor=world.secretariat, coalition=world.coalition, category=world.troops,
                                    unit=world.personnel, quantity=5000)


@pytest.fixture
def meeting(world: World) -> Meeting:
    return upcoming_meeting(world)
