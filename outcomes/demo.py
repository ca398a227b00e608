"""Demo outcomes of the Paris leaders' meeting (27 March 2025) and the NATO ministerial (10 April 2025): drawn
from public reporting of them, the owners, days and statuses illustrative (each says so in its note). Actions for
France, the United Kingdom, Poland and the secretariat; Poland's is overdue. Idempotent: an outcome already there
(same meeting and text) is left as it is."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from meetings.demo import NATO_MEETING_TITLE, NEXT_MEETING_TITLE
from meetings.models import Meeting
from outcomes.models import Outcome
from outcomes.services import outcome_record
from pledges.demo import SEED_ACTOR
from pledges.models import Country

ILLUSTRATIVE = "Illustrative: drawn from public reporting; owner, day and status are the demo's."
PARIS_TITLE = "Leaders' meeting on peace and security for Ukraine"


def _outcomes(meetings: dict[str, Meeting]) -> list[dict[str, Any]]:
    paris, nato = meetings[PARIS_TITLE], meetings[NATO_MEETING_TITLE]
    upcoming = meetings.get(NEXT_MEETING_TITLE)
    next_day = upcoming.starts_at.date() if upcoming else dt.date(2026, 12, 31)
    return [
        {"meeting": paris, "kind": "decision",
         "text": "Plan a reassurance force for Ukraine, to be deployed once a ceasefire is agreed; military planners "
                 "to present options to defence ministers."},
        {"meeting": paris, "kind": "decision", "text": "No lifting of sanctions on Russia before a lasting peace."},
        {"meeting": paris, "kind": "action", "owner": "FR", "due_on": dt.date(2025, 4, 10), "status": "done",
         "closed_on": dt.date(2025, 4, 8),
         "text": "Send a French and British military delegation to Ukraine to plan the future of its armed forces."},
        {"meeting": nato, "kind": "decision",
         "text": "Move from concept to operational planning of the force, with a planning headquarters in Paris."},
        {"meeting": nato, "kind": "action", "owner": "GB", "due_on": dt.date(2025, 5, 15), "status": "done",
         "closed_on": dt.date(2025, 5, 14),
         "text": "Circulate the draft operational plan to the contributing nations."},
        {"meeting": nato, "kind": "action", "owner": None, "due_on": dt.date(2025, 5, 9), "status": "done",
         "closed_on": dt.date(2025, 5, 9), "text": "Circulate the revised statement of requirements."},
        {"meeting": nato, "kind": "action", "owner": "PL", "due_on": dt.date(2025, 5, 30), "status": "open",
         "text": "Confirm the logistics hub at Rzeszów and its capacity for the coalition."},
        {"meeting": nato, "kind": "action", "owner": "FR", "due_on": next_day, "status": "open",
         "text": "Table the air policing and air defence options for the chiefs of defence."},
    ]


@transaction.atomic
def load_outcomes(meetings: list[Meeting]) -> int:
    """The demo outcomes of the meetings seed_demo loaded; how many were new."""
    by_title = {meeting.title: meeting for meeting in meetings}
    if PARIS_TITLE not in by_title or NATO_MEETING_TITLE not in by_title:
        return 0
    countries = {country.code: country for country in Country.objects.filter(code__in=["FR", "GB", "PL"])}
    created = 0
    for item in _outcomes(by_title):
        if Outcome.objects.filter(meeting=item["meeting"], text=item["text"]).exists():
            continue
        owner = item.pop("owner", None)
        outcome_record(actor=SEED_ACTOR, system=True, owner=countries[owner] if owner else None, note=ILLUSTRATIVE,
                       **item)
        created += 1
    return created


def on_meetings_loaded(sender: Any, meetings: list[Meeting], **kwargs: Any) -> str:
    """seed_demo's meetings_loaded signal (connected in outcomes.apps)."""
    return f"Demo outcomes: {load_outcomes(meetings)} new."
