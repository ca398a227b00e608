"""The secretariat's admin screens write through the services; others may look, not change."""

from __future__ import annotations

import datetime as dt

from django.test import Client
from django.utils import timezone

from meetings import services
from meetings.briefs import pipeline
from meetings.models import AgendaItem, Brief, Invitation, Meeting
from tests.conftest import World


def browser(user: object) -> Client:
    client = Client()
    client.force_login(user)
    return client


def management(prefix: str, total: int, initial: int = 0) -> dict[str, object]:
    return {f"{prefix}-TOTAL_FORMS": total, f"{prefix}-INITIAL_FORMS": initial, f"{prefix}-MIN_NUM_FORMS": 0,
            f"{prefix}-MAX_NUM_FORMS": 1000}


def test_secretariat_adds_a_meeting_with_invitations_and_agenda(world: World) -> None:
    start = (timezone.now() + dt.timedelta(days=9)).replace(microsecond=0)
    data = {
        "coalition": world.coalition.pk, "title": "Ministers in London", "kind": "ministerial", "status": "planned",
        "starts_at_0": start.strftime("%d/%m/%Y"), "starts_at_1": "09:00:00",
        "ends_at_0": start.strftime("%d/%m/%Y"), "ends_at_1": "15:00:00",
        "time_zone": "Europe/London", "place": "Lancaster House", "chairs": [world.gb.pk, world.fr.pk],
        "outcome_notes": "",
        **management("invitations", 2), **management("agenda_items", 2), **management("briefs", 0),
        **management("outcomes", 0),
        "invitations-0-country": world.pl.pk, "invitations-0-status": "confirmed",
        "invitations-0-head_of_delegation": "Minister of National Defence", "invitations-0-level": "minister",
        "invitations-1-country": world.gb.pk, "invitations-1-status": "declined",
        "invitations-1-head_of_delegation": "", "invitations-1-level": "",
        "agenda_items-0-position": "", "agenda_items-0-title": "Opening", "agenda_items-0-description": "",
        "agenda_items-1-position": "", "agenda_items-1-title": "Force picture", "agenda_items-1-description": "",
    }
    response = browser(world.secretariat).post("/admin/meetings/meeting/add/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    meeting = Meeting.objects.get(title="Ministers in London")
    assert sorted(meeting.chairs.values_list("code", flat=True)) == ["FR", "GB"]
    assert dict(Invitation.objects.filter(meeting=meeting).values_list("country__code", "status")) == {
        "PL": "confirmed", "GB": "declined"}
    assert list(AgendaItem.objects.filter(meeting=meeting).values_list("position", "title")) == [
        (1, "Opening"), (2, "Force picture")]
    event = Meeting.pgh_event_model.objects.filter(pgh_obj_id=meeting.pk).order_by("pgh_id").first()
    assert event.pgh_context.metadata["username"] == "secretariat"


def test_a_chair_from_outside_the_coalition_is_a_form_error(world: World) -> None:
    start = timezone.now() + dt.timedelta(days=9)
    data = {
        "coalition": world.coalition.pk, "title": "Ministers", "kind": "ministerial", "status": "planned",
        "starts_at_0": start.strftime("%d/%m/%Y"), "starts_at_1": "09:00:00",
        "ends_at_0": start.strftime("%d/%m/%Y"), "ends_at_1": "15:00:00", "time_zone": "Europe/London",
        "chairs": [world.us.pk], **management("invitations", 0), **management("agenda_items", 0),
        **management("briefs", 0), **management("outcomes", 0),
    }
    response = browser(world.secretariat).post("/admin/meetings/meeting/add/", data)
    assert response.status_code == 200
    assert "Not members of CotW: United States." in response.content.decode()
    assert not Meeting.objects.exists()


def test_a_meeting_in_year_one_is_a_form_error_not_a_crash(world: World) -> None:
    data = {
        "coalition": world.coalition.pk, "title": "Ministers", "kind": "ministerial", "status": "planned",
        "starts_at_0": "01/01/0001", "starts_at_1": "09:00:00", "ends_at_0": "01/01/0001", "ends_at_1": "15:00:00",
        "time_zone": "America/Los_Angeles", "chairs": [world.fr.pk], **management("invitations", 0),
        **management("agenda_items", 0), **management("briefs", 0), **management("outcomes", 0),
    }
    response = browser(world.secretariat).post("/admin/meetings/meeting/add/", data)
    assert response.status_code == 200
    assert "Give a date between the years 1900 and 2200." in response.content.decode()
    assert not Meeting.objects.exists()


def test_compile_brief_action_and_brief_admin(world: World, meeting: Meeting) -> None:
    client = browser(world.secretariat)
    response = client.post("/admin/meetings/meeting/", {"action": "compile_brief", "_selected_action": [meeting.pk]},
                           follow=True)
    assert "Brief no. 1 for “Defence ministers” is queued" in response.content.decode()
    brief = Brief.objects.get(meeting=meeting)
    pipeline.brief_compile(brief_id=brief.pk)
    page = client.get("/admin/meetings/brief/").content.decode()
    assert f"/admin/meetings/brief/{brief.pk}/download/pdf/" in page
    change = client.get(f"/admin/meetings/meeting/{meeting.pk}/change/").content.decode()
    assert f"/admin/meetings/brief/{brief.pk}/download/xlsx/" in change
    download = browser(world.analyst).get(f"/admin/meetings/brief/{brief.pk}/download/pdf/")
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert browser(world.ministry_pl).get(f"/admin/meetings/brief/{brief.pk}/download/pdf/").status_code in (302, 403,
                                                                                                              404)


def test_others_look_but_do_not_change(world: World, meeting: Meeting) -> None:
    for user in (world.analyst, world.ministry_pl):
        client = browser(user)
        assert client.get("/admin/meetings/meeting/").status_code == 200
        assert client.get(f"/admin/meetings/meeting/{meeting.pk}/change/").status_code == 200
        assert client.get("/admin/meetings/meeting/add/").status_code == 403
        assert "Compile brief" not in client.get("/admin/meetings/meeting/").content.decode()
        client.post("/admin/meetings/meeting/", {"action": "compile_brief", "_selected_action": [meeting.pk]})
    assert browser(world.ministry_us).get(f"/admin/meetings/meeting/{meeting.pk}/change/").status_code == 302
    assert not Brief.objects.exists()


def test_meeting_changelist_query_count_is_pinned(world: World, meeting: Meeting, django_assert_num_queries) -> None:
    for days in (20, 21, 22):
        services.meeting_create(actor=world.secretariat, coalition=world.coalition, title=f"M{days}",
                                starts_at=timezone.now() + dt.timedelta(days=days),
                                ends_at=timezone.now() + dt.timedelta(days=days), chairs=[world.fr])
    client = browser(world.secretariat)
    client.get("/admin/meetings/meeting/")
    with django_assert_num_queries(11):  # session, user, filters, counts, perms, page, chairs, dates
        assert client.get("/admin/meetings/meeting/").status_code == 200
