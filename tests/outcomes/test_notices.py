"""The emails about outcomes: the reminder lists the reader's country's open actions (overdue first); the owner
country's staff get one email when an action is recorded for it. Through a real SMTP server on loopback."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from meetings import services as meeting_services
from meetings.models import Meeting, Notification
from meetings.reminders import reminders_send_due
from outcomes import services
from outcomes.notices import action_recorded_notify
from tests.conftest import World
from tests.meetings.test_reminders import Inbox
from tests.outcomes.conftest import Outcomes

pytestmark = pytest.mark.django_db


@pytest.fixture
def meeting(world: World) -> Meeting:
    """A ministerial in 5 days (within the reminder days): PL and FR invited; the staff with addresses."""
    starts = timezone.now() + dt.timedelta(days=5)
    meeting = meeting_services.meeting_create(actor=world.secretariat, coalition=world.coalition,
                                              title="Defence ministers", starts_at=starts,
                                              ends_at=starts + dt.timedelta(hours=4), place="Brussels")
    for country in (world.pl, world.fr):
        meeting_services.invitation_set(actor=world.secretariat, meeting=meeting, country=country, status="invited")
    for user in (world.ministry_pl, world.ministry_fr, world.ministry_gb, world.secretariat):
        user.email = f"{user.username}@example.org"
        user.save()
    return meeting


def test_the_reminder_lists_the_readers_open_actions_overdue_first(world: World, outcomes: Outcomes,
                                                                    meeting: Meeting, inbox: Inbox) -> None:
    later = services.outcome_record(actor=world.secretariat, meeting=outcomes.meeting, kind="action",
                                    owner=world.pl, text="Open the rail corridor.",
                                    due_on=timezone.localdate() + dt.timedelta(days=30))
    services.outcome_record(actor=world.secretariat, meeting=outcomes.meeting, kind="action", owner=world.pl,
                            text="Send the liaison officers.", due_on=timezone.localdate(), status="done",
                            system=True)
    reminders_send_due()
    [mail] = inbox.to("ministry-pl@example.org")
    body = mail.get_payload(decode=True).decode()
    assert "2 items to look at" in mail["Subject"]
    assert "Actions open for Poland (2):" in body
    assert body.index("Confirm the logistics hub at Rzeszów.") < body.index("Open the rail corridor.")
    assert "OVERDUE" in body.split("Open the rail corridor.")[0] and "OVERDUE" not in body.split(
        "Open the rail corridor.")[1]
    assert f"https://pledges.example/admin/outcomes/ouraction/{later.pk}/change/" in body
    assert "Send the liaison officers." not in body and "Table the air policing plan." not in body
    fr_body = inbox.to("ministry-fr@example.org")[0].get_payload(decode=True).decode()
    assert "Table the air policing plan." in fr_body and "Rzeszów" not in fr_body


def test_the_reminder_reads_in_french(world: World, outcomes: Outcomes, meeting: Meeting, inbox: Inbox) -> None:
    world.ministry_pl.preferred_language = "fr"
    world.ministry_pl.save()
    reminders_send_due()
    body = inbox.to("ministry-pl@example.org")[0].get_payload(decode=True).decode()
    assert "Actions ouvertes pour Poland (1) :" in body, body
    assert "EN RETARD" in body and "attendue le" in body


def test_the_owner_country_hears_once_when_an_action_is_recorded(world: World, meeting: Meeting, inbox: Inbox,
                                                                 django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        action = services.outcome_record(actor=world.secretariat, meeting=meeting, kind="action", owner=world.pl,
                                         text="Confirm the logistics hub at Rzeszów.",
                                         due_on=dt.date(2031, 5, 30))
        services.outcome_record(actor=world.secretariat, meeting=meeting, kind="decision",
                                text="The force headquarters will be in Kyiv.")
        services.outcome_record(actor=world.secretariat, meeting=meeting, kind="action", owner=None,
                                text="Circulate the statement.", due_on=dt.date(2031, 5, 30))
    [mail] = inbox.messages
    assert mail["To"] == "ministry-pl@example.org"
    assert "Action for Poland, due 30 May 2031: Defence ministers" == mail["Subject"]
    body = mail.get_payload(decode=True).decode()
    assert "Confirm the logistics hub at Rzeszów." in body
    assert f"https://pledges.example/admin/outcomes/ouraction/{action.pk}/change/" in body
    assert action_recorded_notify(outcome_id=action.pk) == 0  # once, however often
    assert Notification.objects.filter(kind="action_recorded").count() == 1
    assert len(inbox.messages) == 1
