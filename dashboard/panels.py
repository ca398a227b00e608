"""What each role's dashboard shows, read only through the selectors of pledges and meetings (so a page shows
exactly what the API and the brief would show the same person). Every panel reads a fixed number of rows:
the page costs the same number of queries however many pledges there are."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.roles import MinistryStaff, Reader, is_secretariat
from dashboard.charts import BulletBar, bullet_bars
from dashboard.forms import MapSizeForm
from dashboard.maps import MapDrawing, capabilities_on, draw_force_map
from meetings.models import Brief, Invitation, Meeting
from meetings.selectors import (
    country_invitations_upcoming,
    last_meeting_before,
    latest_briefs,
    may_see_briefs,
    upcoming_meetings,
)
from pledges.models import Coalition, PledgeStatus
from pledges.selectors import (
    ForcePicture,
    coalition_force,
    coalition_map,
    country_attention,
    pledge_counts_by_status,
)

SHOWN = 8  # rows per list; the rest is one link away
UPCOMING = 5
BRIEFS_PER_MEETING = 3


@dataclass
class ForcePanel:
    coalition: Coalition
    picture: ForcePicture
    bars: list[BulletBar]
    as_of: dt.datetime | None
    previous_meeting: Meeting | None
    api_links: list[tuple[str, str]]  # (what it gives, the URL)
    map: MapDrawing
    map_form: MapSizeForm


def force_panel(*, user: Reader, coalition: Coalition, as_of: dt.datetime | None,
                size_by: dict[str, Any] | None = None) -> ForcePanel:
    """`size_by`: the map's MapSizeForm data (the request's query)."""
    picture = coalition_force(coalition=coalition, user=user, as_of=as_of)
    places = coalition_map(coalition=coalition, user=user, as_of=as_of)
    map_form = MapSizeForm(size_by if size_by and "size_by" in size_by else None,
                           capabilities=capabilities_on(places))
    force_query = {"as_of": as_of.isoformat()} if as_of else {}
    pledge_query = {"coalition": coalition.pk, "status": "indicative,confirmed,deployed", **force_query}
    api_links = [
        (_("Totals and gaps (JSON)"), _url("coalition-force", coalition.pk, force_query)),
        (_("Offered pledges (CSV)"), _url("pledge-list", None, {**pledge_query, "format": "csv"})),
        (_("Offered pledges (JSON)"), _url("pledge-list", None, pledge_query)),
        (_("Tranches (CSV)"), _url("delivery-list", None, {"coalition": coalition.pk, "format": "csv"})),
        (_("Where the force stands (GeoJSON)"), _url("coalition-force-map", coalition.pk, force_query)),
    ]
    return ForcePanel(
        coalition=coalition, picture=picture, bars=bullet_bars(picture.categories), as_of=as_of,
        previous_meeting=last_meeting_before(coalition_id=coalition.pk, moment=as_of or timezone.now()),
        api_links=api_links, map=draw_force_map(places, map_form.chosen() if map_form.is_bound else None),
        map_form=map_form,
    )


def _url(name: str, pk: int | None, query: dict[str, Any]) -> str:
    path = reverse(name, kwargs={"pk": pk}) if pk is not None else reverse(name)
    return f"{path}?{urlencode(query)}" if query else path


@dataclass
class CountryPanel:
    """Ministry staff: their country's pledges by status and what waits for them."""

    counts: list[tuple[str, Any, int]]  # (status, its label (translated on display), how many)
    drafts: list[Any]
    drafts_total: int
    stale: list[Any]
    stale_total: int
    overdue: list[Any]
    overdue_total: int
    caveats: list[Any]
    caveats_total: int
    invitations: list[Invitation]


def country_panel(*, user: MinistryStaff) -> CountryPanel:
    counts = pledge_counts_by_status(user=user)
    pending = country_attention(user=user)
    return CountryPanel(
        counts=[(status, PledgeStatus(status).label, counts[status]) for status in PledgeStatus.values],
        drafts=list(pending.drafts[:SHOWN]), drafts_total=counts[PledgeStatus.DRAFT],
        stale=list(pending.stale[:SHOWN]), stale_total=pending.stale.count(),
        overdue=list(pending.overdue[:SHOWN]), overdue_total=pending.overdue.count(),
        caveats=list(pending.caveats[:SHOWN]), caveats_total=pending.caveats.count(),
        invitations=list(country_invitations_upcoming(user=user, limit=UPCOMING)),
    )


@dataclass
class MeetingRow:
    meeting: Meeting
    briefs: list[Brief] = field(default_factory=list)


@dataclass
class MeetingsPanel:
    """The secretariat (and analysts, who read briefs): the next meetings, their answers and their briefs."""

    rows: list[MeetingRow]
    may_compile: bool


def meetings_panel(*, user: Reader) -> MeetingsPanel | None:
    if not may_see_briefs(user):
        return None
    meetings = list(upcoming_meetings(user=user, limit=UPCOMING))
    briefs = latest_briefs(user=user, meeting_ids=[m.pk for m in meetings], per_meeting=BRIEFS_PER_MEETING)
    return MeetingsPanel(rows=[MeetingRow(meeting=m, briefs=briefs[m.pk]) for m in meetings],
                         may_compile=is_secretariat(user))
