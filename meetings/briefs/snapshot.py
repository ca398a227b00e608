"""Gather a brief's figures as of brief.as_of, read with secretariat-level visibility (never a draft).

The force picture is pledges.selectors.coalition_force for the same moment, so
the brief's totals equal the API's force endpoint for that moment. The result
is plain JSON: it is stored on the brief and both renderers read only it.
"""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from collections import Counter
from collections.abc import Callable
from typing import Any

from babel import Locale
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Q, QuerySet
from django.utils import timezone, translation
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext, gettext_lazy

from meetings.briefs.over_time import conditions, force_over_time
from meetings.briefs.sections import gather_sections
from meetings.models import Brief, DelegationLevel, InvitationStatus, Meeting
from meetings.selectors import BRIEF_VIEWER, previous_meeting
from pledges.history import caveat_changes, caveats_as_of, delivery_changes, pledge_changes
from pledges.models import OFFERED, CapabilityCategory, CaveatKind, Country, PledgeStatus
from pledges.selectors import coalition_force, coalition_map, pledge_list, read_sources
from pledges.visibility import among

MARKING = gettext_lazy("COALITION RESTRICTED")
ILLUSTRATIVE_MARKING = gettext_lazy("illustrative demo figures")
EN_DASH = "\u2013"

# The snapshot is built in the brief's language (meetings.briefs.pipeline compiles under translation.override):
# dates as the language writes them ("jeudi 10 avril 2025"), country names from Babel's territory names (French),
# category names through the catalogue. What users typed stays as typed.


def _day(moment: dt.datetime | dt.date) -> str:
    return date_format(moment, "l j F Y")


def local_time(moment: dt.datetime, tz: zoneinfo.ZoneInfo) -> str:
    local = moment.astimezone(tz)
    return f"{_day(local)}, {local:%H:%M %Z}"


def meeting_when(meeting: Meeting) -> str:
    tz = zoneinfo.ZoneInfo(meeting.time_zone)
    start, end = meeting.starts_at.astimezone(tz), meeting.ends_at.astimezone(tz)
    if start.date() == end.date():
        return f"{_day(start)}, {start:%H:%M}{EN_DASH}{end:%H:%M} {end:%Z} ({meeting.time_zone})"
    return f"{_day(start)} {start:%H:%M} {EN_DASH} {_day(end)} {end:%H:%M} {end:%Z} ({meeting.time_zone})"


def country_name(code: str, name: str) -> str:
    """The country's name in the active language: Babel's territory names for French, ours for English."""
    language = translation.get_language() or "en"
    if language.startswith("en"):
        return name
    return str(Locale.parse(language.split("-")[0]).territories.get(code, name))


def category_name(name: str) -> str:
    return gettext(name)


def _attendance(meeting: Meeting) -> dict[str, Any]:
    invitations = list(meeting.invitations.select_related("country").order_by("country__name"))
    counts = Counter(inv.status for inv in invitations)
    levels = dict(DelegationLevel.choices)
    statuses = dict(InvitationStatus.choices)
    return {
        "invited": len(invitations),
        "confirmed": counts[InvitationStatus.CONFIRMED],
        "declined": counts[InvitationStatus.DECLINED],
        "attended": counts[InvitationStatus.ATTENDED],
        "no_answer": counts[InvitationStatus.INVITED],
        "rows": [
            {
                "country": country_name(inv.country.code, inv.country.name), "code": inv.country.code,
                "status": inv.status, "status_label": str(statuses[inv.status]),
                "head_of_delegation": inv.head_of_delegation, "level": str(levels.get(inv.level, "")),
            }
            for inv in invitations
        ],
    }


def _pledge_phrase(category: str, quantity: int, unit: str, description: str) -> str:
    phrase = f"{category_name(category)}: {number_format(quantity, force_grouping=True)} {unit}"
    return phrase + (f" ({description})" if description else "")


def _caveats(meeting: Meeting, as_of: dt.datetime, offered: QuerySet[Any]) -> list[dict[str, Any]]:
    kinds = dict(CaveatKind.choices)
    rows = list(
        caveats_as_of(BRIEF_VIEWER, as_of)
        .filter(coalition_id=meeting.coalition_id, is_active=True)
        .filter(Q(pledge_id__isnull=True) | among("pledge_id", offered.values("id")))
        .select_related("country")
        .order_by("country__name", "kind", "id")
    )
    # Only the pledges that carry a caveat are read, to name them, as plain rows (not the list's model instances
    # with their flags and tranche sums).
    pledges = {pledge_id: phrase for pledge_id, *phrase in offered.filter(
        id__in={row.pledge_id for row in rows if row.pledge_id}).values_list(
        "id", "category__name", "quantity", "unit__code", "description")}
    return [
        {
            "id": row.id, "country": country_name(row.country.code, row.country.name), "code": row.country.code,
            "kind": row.kind, "kind_label": str(kinds.get(row.kind, row.kind)), "text": row.text,
            "rationale": row.rationale,
            "scope": (_pledge_phrase(*pledges[row.pledge_id]) if row.pledge_id
                      else gettext("All pledges to the coalition")),
            "imposed_on": row.imposed_on,
        }
        for row in rows
    ]


def _delivery(force: list[dict[str, Any]], as_of: dt.datetime, offered: QuerySet[Any], deliveries: QuerySet[Any],
              tz: zoneinfo.ZoneInfo) -> dict[str, Any]:
    """Pledged against delivered per capability (the force picture's figures), the tranches overdue and the
    pledges not reconfirmed in time, by country, as of the brief's moment.

    `deliveries`: the tranches as they stood (pledges.selectors.read_sources: the live rows when nothing changed
    since). A tranche is seen by whoever sees its pledge (pledges.visibility.delivery_visibility_q), and every
    pledge offered is one the brief sees, so the tranches of the offered pledges need no visibility rule of their
    own: deliveries_as_of's, judged against the history of every pledge, took 0.25 s at 100,000 pledges, and as
    much again inside the query naming their pledges."""
    day = timezone.localdate(as_of)
    # Plain rows, not model instances: at 400,000 pledges these are some 20,000 stale pledges and 30,000 tranches.
    stale = offered.filter(is_stale=True).order_by("country__name", "category__sort_order", "id").values_list(
        "id", "country__code", "country__name", "category__name", "unit__code", "quantity", "status",
        "reconfirmed_at")
    tranches = deliveries.filter(pledge_id__in=offered.values("id"), delivered_on__isnull=True, planned_on__lt=day)
    pledges = {
        pledge_id: (country_name(code, name), code, category_name(category), unit)
        for pledge_id, code, name, category, unit in offered.filter(id__in=tranches.values("pledge_id"))
        .values_list("id", "country__code", "country__name", "category__name", "unit__code")
    }
    overdue = sorted(
        (
            {
                "country": pledges[pledge_id][0], "code": pledges[pledge_id][1], "category": pledges[pledge_id][2],
                "unit": pledges[pledge_id][3], "quantity": quantity, "planned_on": planned_on,
                "days_late": (day - planned_on).days, "pledge_id": pledge_id, "note": note,
            }
            for pledge_id, quantity, planned_on, note in tranches.order_by("planned_on", "id").values_list(
                "pledge_id", "quantity", "planned_on", "note")
        ),
        key=lambda row: (row["country"], row["planned_on"]),
    )
    statuses = {status: str(PledgeStatus(status).label) for status in OFFERED}
    return {
        "capabilities": [
            {"category_name": category_name(line["category_name"]), "unit": line["unit"],
             "offered": line["confirmed"] + line["indicative"], "delivered": line["delivered"],
             "overdue": line["overdue"], "stale": line["stale"]}
            for line in force
        ],
        "overdue": overdue,
        "stale": [
            {
                "country": country_name(code, name), "code": code, "category": category_name(category),
                "unit": unit, "quantity": quantity, "status": statuses[status], "pledge_id": pledge_id,
                "reconfirmed_on": reconfirmed_at.astimezone(tz).date() if reconfirmed_at else None,
                "days_since": (as_of - reconfirmed_at).days if reconfirmed_at else None,
            }
            for pledge_id, code, name, category, unit, quantity, status, reconfirmed_at in stale
        ],
    }


def _places(meeting: Meeting, as_of: dt.datetime) -> dict[str, Any]:
    """Where the force stands (pledges.selectors.coalition_map, as the API's map/ for the same moment): the
    places numbered by their number of pledges, each with its amounts per capability."""
    picture = coalition_map(coalition=meeting.coalition, user=BRIEF_VIEWER, as_of=as_of)
    return {
        "unplaced": picture.unplaced,
        "points": [
            {
                "number": number, "id": point.place.pk, "name": point.place.name, "code": point.place.country_code,
                "lat": point.place.latitude, "lon": point.place.longitude, "pledges": point.pledge_count,
                "weight": point.weight,
                "quantities": [{"category_name": category_name(q.category_name), "unit": q.unit,
                                "quantity": q.quantity, "confirmed": q.confirmed} for q in point.quantities],
            }
            for number, point in enumerate(picture.points, start=1)
        ],
    }


CHANGE_LABELS = {
    "new": gettext_lazy("New pledge"), "raised": gettext_lazy("Raised"), "lowered": gettext_lazy("Lowered"),
    "withdrawn": gettext_lazy("Withdrawn"), "status": gettext_lazy("Status change"),
    "changed": gettext_lazy("Details changed"), "removed": gettext_lazy("No longer offered"),
}


def _changes(meeting: Meeting, as_of: dt.datetime) -> dict[str, Any]:
    previous = previous_meeting(meeting)
    if previous is None:
        return {"previous_meeting": None, "since": None, "pledges": [], "caveats": [], "deliveries": []}
    since = previous.starts_at
    names = {code: country_name(code, name) for code, name in Country.objects.values_list("code", "name")}
    categories = {code: category_name(name) for code, name in CapabilityCategory.objects.values_list("code", "name")}
    statuses = dict(PledgeStatus.choices)
    pledge_rows: list[dict[str, Any]] = []
    for change in pledge_changes(user=BRIEF_VIEWER, since=since, until=as_of, coalition=meeting.coalition):
        before = (f"{number_format(change.quantity_before, force_grouping=True)} {change.unit}, "
                  f"{statuses[change.status_before]}"
                  if change.quantity_before is not None and change.status_before else "—")
        after = (f"{number_format(change.quantity_after, force_grouping=True)} {change.unit}, "
                 f"{statuses[change.status_after]}"
                 if change.quantity_after is not None and change.status_after else "—")
        pledge_rows.append({
            "pledge_id": change.pledge_id, "kind": change.kind,
            "kind_label": str(CHANGE_LABELS.get(change.kind, change.kind)),
            "country": names.get(change.country, change.country), "code": change.country,
            "category": categories.get(change.category, change.category), "unit": change.unit,
            "quantity_before": change.quantity_before, "quantity_after": change.quantity_after,
            "status_before": change.status_before, "status_after": change.status_after,
            "before": before, "after": after, "at": change.at,
        })
    order = {kind: i for i, kind in enumerate(CHANGE_LABELS)}
    pledge_rows.sort(key=lambda r: (order.get(r["kind"], 99), r["country"], r["category"]))
    caveat_rows = [
        {
            "caveat_id": c.caveat_id, "kind": c.kind,
            "kind_label": gettext("Caveat added") if c.kind == "added" else gettext("Caveat lifted"),
            "caveat_kind": c.caveat_kind, "country": names.get(c.country, c.country), "code": c.country,
            "text": c.text, "rationale": c.rationale, "at": c.at,
        }
        for c in caveat_changes(user=BRIEF_VIEWER, since=since, until=as_of, coalition=meeting.coalition)
    ]
    caveat_rows.sort(key=lambda r: (r["kind"], r["country"]))
    delivery_rows = sorted(
        (
            {
                "delivery_id": d.delivery_id, "pledge_id": d.pledge_id, "kind": d.kind,
                "country": names.get(d.country, d.country), "code": d.country,
                "category": categories.get(d.category, d.category), "unit": d.unit, "quantity": d.quantity_after,
                "delivered_on": d.delivered_on, "at": d.at,
            }
            for d in delivery_changes(user=BRIEF_VIEWER, since=since, until=as_of, coalition=meeting.coalition)
            if d.kind == "delivered"
        ),
        key=lambda r: (r["country"], r["delivered_on"] or dt.date.min),
    )
    return {
        "previous_meeting": {"id": previous.pk, "title": previous.title, "when": meeting_when(previous)},
        "since": since, "pledges": pledge_rows, "caveats": caveat_rows, "deliveries": delivery_rows,
    }


def build_snapshot(brief: Brief, on_progress: Callable[[int], None] = lambda percent: None) -> dict[str, Any]:
    meeting = Meeting.objects.select_related("coalition").get(pk=brief.meeting_id)
    as_of = brief.as_of
    tz = zoneinfo.ZoneInfo(meeting.time_zone)
    offered = pledge_list(user=BRIEF_VIEWER, as_of=as_of).filter(
        coalition_id=meeting.coalition_id, status__in=OFFERED
    )
    illustrative = offered.filter(is_illustrative=True).exists()
    on_progress(10)
    force = coalition_force(coalition=meeting.coalition, user=BRIEF_VIEWER, as_of=as_of).as_dict()
    for line in force["categories"]:
        line["category_name"] = category_name(line["category_name"])
    for row in force["countries"]:
        row["country_name"] = country_name(row["country"], row["country_name"])
    force["countries"].sort(key=lambda row: row["country_name"])  # in the language's own order of names
    on_progress(25)
    caveats = _caveats(meeting, as_of, offered)
    deliveries = read_sources(BRIEF_VIEWER, as_of)[2]
    delivery = _delivery(force["categories"], as_of, offered, deliveries, tz)
    places = _places(meeting, as_of)
    over_time = force_over_time(meeting, as_of, country_name=country_name, category_name=category_name)
    at_stake = conditions(meeting, as_of, force, category_name=category_name)
    on_progress(35)
    changes = _changes(meeting, as_of)
    sections = gather_sections(meeting, as_of)  # registered by the floors above (meetings.briefs.sections)
    on_progress(50)
    data = {
        "brief": {"id": brief.pk, "number": brief.number},
        "marking": f"{MARKING} — {ILLUSTRATIVE_MARKING}" if illustrative else str(MARKING),
        "language": translation.get_language(),
        "illustrative": illustrative,
        "as_of": as_of,
        "as_of_local": local_time(as_of, tz),
        "meeting": {
            "id": meeting.pk, "title": meeting.title, "kind": str(meeting.get_kind_display()),
            "status": str(meeting.get_status_display()), "when": meeting_when(meeting),
            "starts_at": meeting.starts_at, "ends_at": meeting.ends_at, "time_zone": meeting.time_zone,
            "place": meeting.place, "chairs": [country_name(c.code, c.name) for c in meeting.chairs.order_by("name")],
            "outcome_notes": meeting.outcome_notes,
        },
        "coalition": {"id": meeting.coalition_id, "name": meeting.coalition.name,
                      "short_name": meeting.coalition.short_name},
        "attendance": _attendance(meeting),
        "force": force["categories"],
        "countries": force["countries"],
        "caveats": caveats,
        "delivery": delivery,
        "places": places,
        "over_time": over_time,
        "conditions": at_stake,
        "changes": changes,
        "sections": sections,
        "agenda": [
            {"position": item.position, "title": item.title, "description": item.description}
            for item in meeting.agenda_items.order_by("position")
        ],
    }
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))
