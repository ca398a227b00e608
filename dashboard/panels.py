"""What each role's dashboard shows, read only through the selectors of pledges, meetings and outcomes (so a page shows
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

from accounts.roles import MinistryStaff, Reader, is_ministry, is_secretariat
from dashboard.charts import BulletBar, TimelineChart, bullet_bars, timeline_charts
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
from outcomes.models import overdue_q
from outcomes.selectors import open_actions_of, outcomes_visible_to, with_overdue
from pledges.models import Coalition, ConditionStatus, PledgeStatus
from pledges.scenarios import NO_ASSUMPTIONS, Assumptions
from pledges.selectors import (
    ConditionLine,
    ForcePicture,
    coalition_force,
    coalition_map,
    country_attention,
    pledge_counts_by_status,
)
from pledges.timeline import EndingUnrelieved, Handover, Timeline, coalition_timeline, month_after

SHOWN = 8  # rows per list; the rest is one link away
UPCOMING = 5
BRIEFS_PER_MEETING = 3
TIMELINE_MONTHS = 12


@dataclass
class ConditionChoice:
    """A condition of the coalition as the force form offers it: as recorded, or assumed met or failed (or open,
    for one already decided)."""

    line: ConditionLine
    field_id: str
    chosen: str  # "" (as recorded) or the status assumed
    options: list[tuple[str, str, bool]]  # (value sent, label, selected)

    @property
    def status_label(self) -> str:
        """The status counted (recorded or assumed), in words."""
        return str(ConditionStatus(self.line.status).label)

    @property
    def recorded_label(self) -> str:
        return str(ConditionStatus(self.line.recorded_status).label)


def condition_choices(lines: list[ConditionLine], assume: Assumptions) -> list[ConditionChoice]:
    choices = []
    for line in lines:
        chosen = assume.statuses.get(line.id, "")
        statuses = [ConditionStatus.MET, ConditionStatus.FAILED]
        if line.recorded_status != ConditionStatus.OPEN or chosen == ConditionStatus.OPEN:
            statuses.insert(0, ConditionStatus.OPEN)
        recorded = _("As recorded (%(status)s)") % {"status": ConditionStatus(line.recorded_status).label.lower()}
        options = [("", recorded, chosen == "")]
        options += [(f"{line.id}:{status}", _("Assume %(status)s") % {"status": status.label.lower()},
                     chosen == status) for status in statuses]
        choices.append(ConditionChoice(line=line, field_id=f"id_assume_{line.id}", chosen=chosen, options=options))
    return choices


@dataclass
class HandoverRow:
    handover: Handover
    name: str  # the capability's name (translated on display)
    overlap_days: int  # days both stand, when they overlap


@dataclass
class EndingRow:
    ending: EndingUnrelieved
    name: str


@dataclass
class TimelinePanel:
    timeline: Timeline
    charts: list[TimelineChart]
    first: dt.date
    last: dt.date
    handovers: list[HandoverRow]
    ending: list[EndingRow]


def timeline_panel(*, user: Reader, coalition: Coalition, start: dt.date, as_of: dt.datetime | None,
                   assume: Assumptions) -> TimelinePanel:
    timeline = coalition_timeline(coalition=coalition, user=user, start=start, months=TIMELINE_MONTHS, as_of=as_of,
                                  assume=assume)
    first = dt.date.fromisoformat(f"{timeline.start}-01")
    last = month_after(first, TIMELINE_MONTHS - 1)
    names = {c.category: c.category_name for c in timeline.capabilities}
    return TimelinePanel(
        timeline=timeline, charts=timeline_charts(timeline.capabilities), first=first, last=last,
        handovers=[HandoverRow(handover=h, name=names.get(h.category, h.category),
                               overlap_days=max(0, -(h.uncovered_days or 0))) for h in timeline.handovers],
        ending=[EndingRow(ending=e, name=names.get(e.category, e.category)) for e in timeline.ending_unrelieved],
    )


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
    on: dt.date | None = None
    assume: Assumptions = NO_ASSUMPTIONS
    conditions: list[ConditionChoice] = field(default_factory=list)
    timeline: TimelinePanel | None = None
    # The page's own query for what is shown (coalition, as_of, on, assume): the map's form and the links keep it.
    query: dict[str, str] = field(default_factory=dict)

    @property
    def fallen(self) -> list[ConditionLine]:
        return [line for line in self.picture.conditions if line.status == ConditionStatus.FAILED]


def force_panel(*, user: Reader, coalition: Coalition, as_of: dt.datetime | None, on: dt.date | None = None,
                assume: Assumptions = NO_ASSUMPTIONS, size_by: dict[str, Any] | None = None) -> ForcePanel:
    """`on`: count only the pledges available that day; `assume`: a scenario of the coalition's conditions;
    `size_by`: the map's MapSizeForm data (the request's query)."""
    picture = coalition_force(coalition=coalition, user=user, as_of=as_of, on=on, assume=assume)
    places = coalition_map(coalition=coalition, user=user, as_of=as_of, on=on, assume=assume)
    map_form = MapSizeForm(size_by if size_by and "size_by" in size_by else None,
                           capabilities=capabilities_on(places))
    as_of_query = {"as_of": as_of.isoformat()} if as_of else {}
    scenario = {"assume": assume.as_query()} if assume else {}
    force_query = {**as_of_query, **({"on": on.isoformat()} if on else {}), **scenario}
    start = (on or timezone.localdate()).replace(day=1)
    timeline_query = {"start": start.strftime("%Y-%m"), "months": TIMELINE_MONTHS, **as_of_query, **scenario}
    pledge_query = {"coalition": coalition.pk, "status": "indicative,confirmed,deployed", **as_of_query}
    api_links = [
        (_("Totals and gaps (JSON)"), _url("coalition-force", coalition.pk, force_query)),
        (_("Offered pledges (CSV)"), _url("pledge-list", None, {**pledge_query, "format": "csv"})),
        (_("Offered pledges (JSON)"), _url("pledge-list", None, pledge_query)),
        (_("Tranches (CSV)"), _url("delivery-list", None, {"coalition": coalition.pk, "format": "csv"})),
        (_("Where the force stands (GeoJSON)"), _url("coalition-force-map", coalition.pk, force_query)),
        (_("Force over time (JSON)"), _url("coalition-timeline", coalition.pk, timeline_query)),
        (_("Force over time (CSV)"), _url("coalition-timeline", coalition.pk, {**timeline_query, "format": "csv"})),
    ]
    page_query = {"coalition": str(coalition.pk),
                  **({"as_of": timezone.localdate(as_of).isoformat()} if as_of else {}),
                  **({"on": on.isoformat()} if on else {}), **scenario}
    return ForcePanel(
        coalition=coalition, picture=picture, bars=bullet_bars(picture.categories), as_of=as_of,
        previous_meeting=last_meeting_before(coalition_id=coalition.pk, moment=as_of or timezone.now()),
        api_links=api_links, map=draw_force_map(places, map_form.chosen() if map_form.is_bound else None),
        map_form=map_form, on=on, assume=assume, conditions=condition_choices(picture.conditions, assume),
        timeline=timeline_panel(user=user, coalition=coalition, start=start, as_of=as_of, assume=assume),
        query=page_query,
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


@dataclass
class ActionsPanel:
    """Meeting outcomes to follow: ministry staff their country's open actions (overdue first); the secretariat
    every overdue action, with its owner. Two queries: the first rows and how many there are."""

    rows: list[Any]
    total: int
    overdue_only: bool


def actions_panel(*, user: Reader) -> ActionsPanel | None:
    if is_ministry(user):
        rows = open_actions_of(country_id=user.country_id, user=user)
        return ActionsPanel(rows=list(rows[:SHOWN]), total=rows.count(), overdue_only=False)
    if is_secretariat(user):
        today = timezone.localdate()
        overdue = with_overdue(outcomes_visible_to(user).filter(overdue_q(today)), today).order_by("due_on", "id")
        return ActionsPanel(rows=list(overdue[:SHOWN]), total=overdue.count(), overdue_only=True)
    return None
