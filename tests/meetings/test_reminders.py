"""Reminders before meetings and brief-ready notices, through a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import datetime as dt
import email
import re
import socket
import threading
from collections.abc import Iterator
from email.header import decode_header, make_header
from email.message import Message
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.conf import LazySettings
from django.db import connection
from django.utils import timezone

from accounts.models import User
from meetings import services
from meetings.briefs import pipeline
from meetings.models import Meeting, Notification
from meetings.reminders import brief_ready_notify, reminders_send_due
from pledges import services as pledge_services
from tests.conftest import World
from tests.factories import make_pledge
from utilities.versioning import SystemActor


class Inbox:
    """The SMTP server's handler: keeps what it receives; refuses the first `refuse` messages with a 451."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.refuse = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        with self.lock:
            if self.refuse:
                self.refuse -= 1
                return "451 4.3.0 Try again later"
            self.messages.append(email.message_from_bytes(envelope.content))  # type: ignore[attr-defined]
        return "250 OK"

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if m["To"] == address]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def inbox(settings: LazySettings) -> Iterator[Inbox]:
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.COALITION_BASE_URL = "https://pledges.example"
    try:
        yield handler
    finally:
        controller.stop()


@pytest.fixture
def meeting(world: World) -> Meeting:
    """A ministerial in 5 days (the default reminder_days is 7): PL and FR invited, GB declined."""
    starts = timezone.now() + dt.timedelta(days=5)
    meeting = services.meeting_create(actor=world.secretariat, coalition=world.coalition, title="Defence ministers",
                                      starts_at=starts, ends_at=starts + dt.timedelta(hours=4), place="Brussels")
    for country, answer in ((world.pl, "invited"), (world.fr, "confirmed"), (world.gb, "declined")):
        services.invitation_set(actor=world.secretariat, meeting=meeting, country=country, status=answer)
    for user in (world.ministry_pl, world.ministry_fr, world.ministry_gb, world.secretariat):
        user.email = f"{user.username}@example.org"
        user.save()
    return meeting


def test_each_invited_countrys_staff_get_one_reminder_listing_what_waits(world: World, meeting: Meeting,
                                                                         inbox: Inbox) -> None:
    stale = make_pledge(country=world.pl, coalition=world.coalition, status="confirmed", quantity=40)
    pledge_services.pledge_reconfirm(actor=SystemActor("test"), system=True, pledge=stale,
                                     at=timezone.now() - dt.timedelta(days=250))
    late = make_pledge(country=world.pl, coalition=world.coalition, status="confirmed", quantity=12,
                       category=world.air, unit=world.aircraft)
    pledge_services.delivery_plan(actor=world.ministry_pl, pledge=late, quantity=4,
                                  planned_on=timezone.localdate() - dt.timedelta(days=9))
    draft = make_pledge(country=world.pl, coalition=world.coalition, quantity=7)
    make_pledge(country=world.fr, coalition=world.coalition, quantity=99)  # France's draft: not in Poland's mail

    assert reminders_send_due() == {"reminders": 2, "brief_notices": 0, "failed": 0}
    assert reminders_send_due() == {"reminders": 0, "brief_notices": 0, "failed": 0}  # once, however often
    [mail] = inbox.to("ministry-pl@example.org")
    body = mail.get_payload(decode=True).decode()
    assert "3 items to look at" in mail["Subject"]
    assert "Offers not reconfirmed for more than 180 days (1)" in body and "40 personnel" in body
    assert "Tranches past their planned day" in body and "4 aircraft planned for" in body
    assert "Drafts not yet offered (1)" in body and "7 personnel" in body
    for pledge in (stale, late, draft):
        assert f"https://pledges.example/admin/pledges/pledge/{pledge.pk}/change/" in body
    assert "99" not in body
    assert "1 item to look at" in inbox.to("ministry-fr@example.org")[0]["Subject"]  # its own draft
    assert inbox.to("ministry-gb@example.org") == []  # GB declined


def test_not_too_early_and_never_to_inactive_people(world: World, meeting: Meeting, inbox: Inbox) -> None:
    Meeting.objects.filter(pk=meeting.pk).update(starts_at=timezone.now() + dt.timedelta(days=9),
                                                 ends_at=timezone.now() + dt.timedelta(days=9, hours=1))
    assert reminders_send_due()["reminders"] == 0
    world.coalition.reminder_days = 10
    world.coalition.save()
    User.objects.filter(pk=world.ministry_fr.pk).update(is_active=False)
    assert reminders_send_due()["reminders"] == 1
    assert [m["To"] for m in inbox.messages] == ["ministry-pl@example.org"]


def test_a_refusing_mail_server_is_tried_again_and_each_mail_goes_once(world: World, meeting: Meeting,
                                                                       inbox: Inbox) -> None:
    inbox.refuse = 1
    assert reminders_send_due() == {"reminders": 1, "brief_notices": 0, "failed": 1}  # the other one still went
    assert Notification.objects.filter(sent_at__isnull=True).count() == 0  # the refused one is not marked sent
    assert reminders_send_due() == {"reminders": 1, "brief_notices": 0, "failed": 0}  # the next run sends it
    reminders_send_due()
    assert sorted(m["To"] for m in inbox.messages) == ["ministry-fr@example.org", "ministry-pl@example.org"]
    assert Notification.objects.filter(sent_at__isnull=False).count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_each_mail_once(world: World, meeting: Meeting, inbox: Inbox) -> None:
    start = threading.Barrier(2)

    def run() -> None:
        try:
            start.wait()
            reminders_send_due()
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(m["To"] for m in inbox.messages) == ["ministry-fr@example.org", "ministry-pl@example.org"]


def test_the_secretariat_hears_when_a_brief_is_ready(world: World, meeting: Meeting, inbox: Inbox) -> None:
    brief = services.brief_request(actor=world.secretariat, meeting=meeting, queue=False)
    pipeline.brief_compile(brief_id=brief.pk)
    assert brief_ready_notify(brief_id=brief.pk) == 1
    assert brief_ready_notify(brief_id=brief.pk) == 0
    [mail] = inbox.to("secretariat@example.org")
    body = mail.get_payload(decode=True).decode()
    assert "Brief no. 1 for Defence ministers is ready" == mail["Subject"]
    assert f"https://pledges.example/api/v1/briefs/{brief.pk}/pdf" in body
    assert f"https://pledges.example/api/v1/briefs/{brief.pk}/xlsx" in body
    assert reminders_send_due()["brief_notices"] == 0  # the sweep finds nothing owed


def test_without_a_mail_server_each_mail_is_an_eml_file(world: World, meeting: Meeting, settings: LazySettings,
                                                        tmp_path: Path) -> None:
    settings.EMAIL_BACKEND = "utilities.mail.EmlFileBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path)
    assert reminders_send_due()["reminders"] == 2
    files = sorted(tmp_path.glob("*.eml"))
    assert len(files) == 2
    assert {email.message_from_bytes(f.read_bytes())["To"] for f in files} == {
        "ministry-pl@example.org", "ministry-fr@example.org"}


def test_each_person_gets_mail_in_their_own_language(world: World, meeting: Meeting, inbox: Inbox) -> None:
    from accounts.models import User

    make_pledge(country=world.pl, coalition=world.coalition, quantity=7)  # a draft not yet offered
    User.objects.filter(pk=world.ministry_pl.pk).update(preferred_language="fr")
    reminders_send_due()
    french = inbox.to("ministry-pl@example.org")[0]
    body = french.get_payload(decode=True).decode()
    assert "1 élément à examiner" in str(make_header(decode_header(french["Subject"])))
    assert body.startswith("Cher collègue,") and "Brouillons pas encore offerts (1)" in body
    assert re.search(r"se tient le (lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche) \d", body), body[:300]
    english = inbox.to("ministry-fr@example.org")[0].get_payload(decode=True).decode()
    assert english.startswith("Dear colleague,")
