"""The outcomes in the admin: inline on the meeting for the secretariat (through the services, refusals in words),
"Our actions" for ministry staff (status and note of their own country's actions only)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from meetings.models import Meeting
from outcomes.models import Outcome
from tests.conftest import World
from tests.meetings.test_admin import browser, management
from tests.outcomes.conftest import Outcomes

pytestmark = pytest.mark.django_db


def meeting_form(meeting: Meeting, outcomes: list[dict[str, Any]], initial: int = 0) -> dict[str, Any]:
    starts, ends = timezone.localtime(meeting.starts_at), timezone.localtime(meeting.ends_at)
    data: dict[str, Any] = {
        "title": meeting.title, "kind": meeting.kind, "status": meeting.status,
        "starts_at_0": starts.strftime("%d/%m/%Y"), "starts_at_1": starts.strftime("%H:%M:%S"),
        "ends_at_0": ends.strftime("%d/%m/%Y"), "ends_at_1": ends.strftime("%H:%M:%S"),
        "time_zone": meeting.time_zone, "place": meeting.place, "outcome_notes": "",
        **management("invitations", 0), **management("agenda_items", 0), **management("briefs", 0),
        **management("outcomes", len(outcomes), initial),
    }
    for index, outcome in enumerate(outcomes):
        data.update({f"outcomes-{index}-{name}": value for name, value in outcome.items()})
        data.setdefault(f"outcomes-{index}-meeting", meeting.pk)
    return data


def blank(**values: Any) -> dict[str, Any]:
    return {"id": "", "kind": "action", "text": "", "owner": "", "due_on": "", "status": "", "note": "", **values}


def test_the_secretariat_records_outcomes_on_the_meeting(world: World, outcomes: Outcomes) -> None:
    meeting = outcomes.meeting
    existing = [blank(id=o.pk, kind=o.kind, text=o.text, owner=o.owner_id or "",
                      due_on=o.due_on.strftime("%d/%m/%Y") if o.due_on else "", status=o.status, note=o.note)
                for o in Outcome.objects.filter(meeting=meeting).order_by("id")]
    due = (timezone.localdate() + dt.timedelta(days=30)).strftime("%d/%m/%Y")
    existing[2]["note"] = "Chased by the secretariat."
    data = meeting_form(meeting, [*existing, blank(text="Send engineers.", owner=world.gb.pk, due_on=due)],
                        initial=len(existing))
    response = browser(world.secretariat).post(f"/admin/meetings/meeting/{meeting.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    new = Outcome.objects.get(text="Send engineers.")
    assert (new.owner_id, new.status, new.version) == (world.gb.pk, "open", 1)
    assert Outcome.objects.get(pk=outcomes.fr_action.pk).note == "Chased by the secretariat."
    assert Outcome.objects.get(pk=outcomes.pl_action.pk).version == 1  # unchanged rows are not written
    event = Outcome.pgh_event_model.objects.filter(pgh_obj_id=new.pk).get()
    assert event.pgh_context.metadata["username"] == "secretariat"


def test_a_refusal_comes_back_in_words(world: World, outcomes: Outcomes) -> None:
    due = timezone.localdate().strftime("%d/%m/%Y")
    data = meeting_form(outcomes.meeting, [blank(text="Send ships.", owner=world.us.pk, due_on=due)])
    response = browser(world.secretariat).post(f"/admin/meetings/meeting/{outcomes.meeting.pk}/change/", data)
    assert response.status_code == 200
    assert "must be a member of the meeting" in response.content.decode()
    assert not Outcome.objects.filter(text="Send ships.").exists()


def test_members_read_them_on_the_meeting_and_outsiders_do_not(world: World, outcomes: Outcomes) -> None:
    for user in (world.ministry_fr, world.analyst):
        page = browser(user).get(f"/admin/meetings/meeting/{outcomes.meeting.pk}/change/").content.decode()
        assert "The force headquarters will be in Kyiv." in page
    assert browser(world.ministry_us).get(
        f"/admin/meetings/meeting/{outcomes.meeting.pk}/change/").status_code == 302  # not found


def test_our_actions_for_ministry_staff(world: World, outcomes: Outcomes) -> None:
    pl: Client = browser(world.ministry_pl)
    listed = pl.get("/admin/outcomes/ouraction/").context["cl"].result_list
    assert [action.pk for action in listed] == [outcomes.pl_action.pk]
    page = f"/admin/outcomes/ouraction/{outcomes.pl_action.pk}/change/"
    response = pl.post(page, {"status": "done", "note": "Confirmed by letter.", "seen_version": 1})
    assert response.status_code == 302, response.content.decode()[:3000]
    done = Outcome.objects.get(pk=outcomes.pl_action.pk)
    assert (done.status, done.note, done.closed_on, done.text) == (
        "done", "Confirmed by letter.", timezone.localdate(), outcomes.pl_action.text)
    stale = pl.post(page, {"status": "open", "note": "Late.", "seen_version": 1})
    assert stale.status_code == 200 and "Someone else changed this record" in stale.content.decode()
    # the text and due day are not theirs: not on the form, and a forged value changes nothing
    pl.post(page, {"status": "done", "note": "Confirmed.", "text": "Softer.", "due_on": "01/01/2031",
                   "seen_version": 2})
    after = Outcome.objects.get(pk=outcomes.pl_action.pk)
    assert (after.text, after.due_on, after.note) == (outcomes.pl_action.text, outcomes.pl_action.due_on,
                                                      "Confirmed.")
    # another country's staff do not find it; other roles have no such list
    assert browser(world.ministry_fr).get(page).status_code == 302
    assert [a.pk for a in browser(world.ministry_fr).get("/admin/outcomes/ouraction/").context["cl"].result_list] \
        == [outcomes.fr_action.pk]
    for user in (world.analyst, world.secretariat):
        assert browser(user).get("/admin/outcomes/ouraction/").status_code == 403
