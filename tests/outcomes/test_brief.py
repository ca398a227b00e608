"""The brief opens its body with "Decisions and actions since the previous meeting": the previous meeting's
outcomes as the API lists them for the brief's moment, counts on the cover, the same rows in the XLSX annex, in
English and French."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from meetings import services as meeting_services
from meetings.briefs import pipeline
from meetings.models import Brief, Meeting
from outcomes import services
from tests.conftest import World
from tests.meetings.conftest import upcoming_meeting
from tests.meetings.helpers import pdf_text, xlsx_rows
from tests.outcomes.conftest import Outcomes

pytestmark = pytest.mark.django_db


def compiled(world: World, meeting: Meeting, language: str = "en") -> Brief:
    brief = meeting_services.brief_request(actor=world.secretariat, meeting=meeting, language=language)
    result = pipeline.brief_compile(brief_id=brief.pk)
    assert result is not None, Brief.objects.get(pk=brief.pk).error
    return result


def api_rows(world: World, meeting: Meeting) -> list[dict[str, object]]:
    client = APIClient()
    client.force_authenticate(world.secretariat)
    response = client.get("/api/v1/outcomes/", {"meeting": meeting.pk, "page_size": 100})
    assert response.status_code == 200, response.content
    body = response.json()
    return body["results"] if isinstance(body, dict) else body


def test_the_brief_lists_the_previous_meetings_outcomes_as_the_api_does(world: World, outcomes: Outcomes) -> None:
    meeting = upcoming_meeting(world)
    services.outcome_update(actor=world.ministry_fr, outcome=outcomes.fr_action, status="done", note="Tabled.")
    brief = compiled(world, meeting)
    sheet = xlsx_rows(bytes(brief.xlsx), "Decisions and actions")
    expected = [
        {"Outcome id": row["id"], "Kind": row["kind"], "Text": row["text"], "Owner code": row["owner"],
         "Due on": row["due_on"], "Status": row["status"], "Overdue": row["is_overdue"], "Note": row["note"] or None}
        for row in api_rows(world, outcomes.meeting)  # (an empty cell reads None)
    ]
    assert [{key: row[key] for key in expected[0]} for row in sheet] == expected
    assert [row["Overdue"] for row in sheet] == [False, True, False, False]  # the PL action
    text = pdf_text(bytes(brief.pdf))
    for phrase in ("Decisions and actions since the previous meeting", "The force headquarters will be in Kyiv.",
                   "Confirm the logistics hub at Rzeszów.", "Open — overdue", "Secretariat", "Tabled.",
                   "1 of 3", "actions done"):
        assert phrase in text, phrase
    # at the start of the body: before the numbered sections, after the cover
    assert text.index("Decisions and actions since the previous meeting") < text.rindex("1. Attendance")


@pytest.mark.django_db(transaction=True)  # each change commits with its own NOW(): the last one after as_of
def test_the_brief_reads_the_outcomes_as_of_its_moment(world: World, outcomes: Outcomes) -> None:
    meeting = upcoming_meeting(world)
    brief = meeting_services.brief_request(actor=world.secretariat, meeting=meeting)
    services.outcome_update(actor=world.ministry_pl, outcome=outcomes.pl_action, status="done")  # after as_of
    done = pipeline.brief_compile(brief_id=brief.pk)
    assert done is not None
    sheet = {row["Outcome id"]: row for row in xlsx_rows(bytes(done.xlsx), "Decisions and actions")}
    assert (sheet[outcomes.pl_action.pk]["Status"], sheet[outcomes.pl_action.pk]["Overdue"]) == ("open", True)
    assert "0 of 3" in pdf_text(bytes(done.pdf))


def test_a_first_meeting_has_no_outcomes_to_report(world: World) -> None:
    brief = compiled(world, upcoming_meeting(world))
    text = pdf_text(bytes(brief.pdf))
    assert "Decisions and actions since the previous meeting" in text
    assert "actions done" not in text
    assert xlsx_rows(bytes(brief.xlsx), "Decisions and actions") == []


def test_the_section_reads_in_french(world: World, outcomes: Outcomes) -> None:
    brief = compiled(world, upcoming_meeting(world), language="fr")
    text = " ".join(pdf_text(bytes(brief.pdf)).replace("\u202f", " ").replace("\xa0", " ").split())
    for phrase in ("Décisions et actions depuis la réunion précédente", "Ouverte — en retard", "Secrétariat",
                   "0 sur 3", "actions réalisées", "Pologne"):
        assert phrase in text, phrase
    for english in ("Decisions and actions", "actions done", "Owner", "Due on"):
        assert english not in text, english
    assert xlsx_rows(bytes(brief.xlsx), "Décisions et actions")
