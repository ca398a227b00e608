"""Demo meetings of the coalition of the willing (real dates and places, from public reporting)."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

from meetings.models import (
    AgendaItem,
    DelegationLevel,
    Invitation,
    InvitationStatus,
    Meeting,
    MeetingKind,
    MeetingStatus,
)
from pledges.demo import COALITION_OF_THE_WILLING, SEED_ACTOR
from pledges.models import Coalition, Country
from utilities.versioning import history_context

BRUSSELS = zoneinfo.ZoneInfo("Europe/Brussels")
PARIS = zoneinfo.ZoneInfo("Europe/Paris")

# 34 invited to the April ministerial, 30 attended (public reporting); which four stayed away is illustrative.
DECLINED_APRIL = {"IS", "MD", "NZ", "JP"}
AGENDA_APRIL = [
    ("Opening by the co-chairs (France and the United Kingdom)", ""),
    ("Force requirement and the current force picture", "The statement of requirements against pledges."),
    ("National contributions and caveats", "Tour de table: what each nation can offer and on what conditions."),
    ("Air policing, maritime security and air defence", "Air, Black Sea and air defence lines of effort."),
    ("Logistics, basing and training", "The Rzeszów hub; training of Ukrainian brigades."),
    ("Next steps and the planning headquarters", ""),
]


# Sent by seed_demo once the demo meetings are loaded (inside its history context), with `meetings`: the apps
# above (outcomes) add their part of the demo without meetings knowing them.
meetings_loaded = Signal()

NATO_MEETING_TITLE = "Defence ministers of the coalition of the willing"
NEXT_MEETING_TITLE = "Chiefs of defence: force generation conference (demo, planned)"


@transaction.atomic
def load_meetings(coalition: Coalition) -> list[Meeting]:
    with history_context(SEED_ACTOR, "seed_demo"):
        return _load_meetings(coalition)


def _load_meetings(coalition: Coalition) -> list[Meeting]:
    countries = {c.code: c for c in Country.objects.filter(code__in=COALITION_OF_THE_WILLING)}
    paris, _ = Meeting.objects.get_or_create(
        coalition=coalition,
        title="Leaders' meeting on peace and security for Ukraine",
        defaults={
            "kind": MeetingKind.LEADERS,
            "starts_at": dt.datetime(2025, 3, 27, 10, 0, tzinfo=PARIS),
            "ends_at": dt.datetime(2025, 3, 27, 16, 0, tzinfo=PARIS),
            "time_zone": "Europe/Paris",
            "place": "Élysée Palace, Paris",
            "status": MeetingStatus.HELD,
            "outcome_notes": "Leaders agreed to plan a reassurance force; military planners to report to ministers.",
        },
    )
    nato, created = Meeting.objects.get_or_create(
        coalition=coalition,
        title=NATO_MEETING_TITLE,
        defaults={
            "kind": MeetingKind.MINISTERIAL,
            "starts_at": dt.datetime(2025, 4, 10, 9, 30, tzinfo=BRUSSELS),
            "ends_at": dt.datetime(2025, 4, 10, 16, 0, tzinfo=BRUSSELS),
            "time_zone": "Europe/Brussels",
            "place": "NATO Headquarters, Brussels",
            "status": MeetingStatus.HELD,
        },
    )
    paris.chairs.add(countries["FR"])
    nato.chairs.add(countries["FR"], countries["GB"])
    for meeting in (paris, nato):
        for code in COALITION_OF_THE_WILLING:
            declined = meeting is nato and code in DECLINED_APRIL
            status = InvitationStatus.DECLINED if declined else InvitationStatus.ATTENDED
            level = DelegationLevel.HEAD_OF_STATE if meeting is paris else DelegationLevel.MINISTER
            Invitation.objects.get_or_create(meeting=meeting, country=countries[code],
                                             defaults={"status": status, "level": "" if declined else level})
    if created:
        for position, (title, description) in enumerate(AGENDA_APRIL, start=1):
            AgendaItem.objects.create(meeting=nato, position=position, title=title, description=description)
    # A planned meeting a day and a half after the first seeding, so that Celery beat has a brief to
    # queue automatically (48 h ahead) in the demo.
    start = timezone.now().replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=36)
    upcoming, created = Meeting.objects.get_or_create(
        coalition=coalition,
        title=NEXT_MEETING_TITLE,
        defaults={
            "kind": MeetingKind.CHIEFS_OF_DEFENCE, "starts_at": start, "ends_at": start + dt.timedelta(hours=6),
            "time_zone": "Europe/Paris", "place": "Mont Valérien, Paris (illustrative)",
            "status": MeetingStatus.PLANNED,
        },
    )
    if created:
        upcoming.chairs.add(countries["FR"], countries["GB"])
        for code in COALITION_OF_THE_WILLING:
            Invitation.objects.create(meeting=upcoming, country=countries[code], status=InvitationStatus.INVITED)
        AgendaItem.objects.create(meeting=upcoming, position=1, title="Force generation: filling the gaps")
    return [paris, nato, upcoming]
