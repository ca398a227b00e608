"""Outcome test helpers: a held meeting of the coalition with a decision and actions for PL, FR and the
secretariat (the PL one overdue)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.utils import timezone

from meetings import services as meeting_services
from meetings.models import Meeting
from outcomes import services
from outcomes.models import Outcome
from tests.conftest import World
from tests.meetings.test_reminders import inbox  # noqa: F401 - the SMTP server on loopback, for tests/outcomes


@dataclass
class Outcomes:
    meeting: Meeting
    decision: Outcome
    pl_action: Outcome  # overdue
    fr_action: Outcome
    secretariat_action: Outcome


def held_meeting(world: World, *, days_ago: int = 20, title: str = "Defence ministers") -> Meeting:
    starts = timezone.now() - dt.timedelta(days=days_ago)
    return meeting_services.meeting_create(actor=world.secretariat, coalition=world.coalition, title=title,
                                           starts_at=starts, ends_at=starts + dt.timedelta(hours=4))


@pytest.fixture
def outcomes(world: World) -> Outcomes:
    return record_outcomes(world)


def record_outcomes(world: World) -> Outcomes:
    """The fixture's outcomes, for tests elsewhere (the dashboard's)."""
    meeting = held_meeting(world)
    today = timezone.localdate()
    record = services.outcome_record
    return Outcomes(
        meeting=meeting,
        decision=record(actor=world.secretariat, meeting=meeting, kind="decision",
                        text="The force headquarters will be in Kyiv."),
        pl_action=record(actor=world.secretariat, meeting=meeting, kind="action", owner=world.pl,
                         text="Confirm the logistics hub at Rzeszów.", due_on=today - dt.timedelta(days=3)),
        fr_action=record(actor=world.secretariat, meeting=meeting, kind="action", owner=world.fr,
                         text="Table the air policing plan.", due_on=today + dt.timedelta(days=10)),
        secretariat_action=record(actor=world.secretariat, meeting=meeting, kind="action", owner=None,
                                  text="Circulate the revised statement of requirements.",
                                  due_on=today + dt.timedelta(days=5)),
    )
