"""The brief's "Force over time" and "Conditions" data, as of the brief's moment, read as BRIEF_VIEWER.

Force over time is pledges.timeline.coalition_timeline for the 12 months from the meeting's month with the brief's
`as_of`, so its figures are the API's `timeline/?start=&months=12&as_of=` for the same moment. Conditions are the
force picture's `conditions` (what hangs on each named condition) and two more reads of coalition_force with the
same `as_of`: every open condition assumed failed, and every open one assumed met (the API's `force/?assume=`).

Plain JSON like the rest of the snapshot. The names are put into the brief's language by the functions the
snapshot passes in (its country and category names), so this module needs nothing from snapshot.py.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Callable, Mapping
from typing import Any

from meetings.models import Meeting
from meetings.selectors import BRIEF_VIEWER
from pledges.models import CapabilityCategory, ConditionStatus, Country
from pledges.scenarios import Assumptions, condition_states
from pledges.selectors import coalition_force, read_sources
from pledges.timeline import coalition_timeline

MONTHS = 12

CountryName = Callable[[str, str], str]  # (code, English name) -> the name in the brief's language
CategoryName = Callable[[str], str]  # the category's stored name -> the name in the brief's language


def first_month(meeting: Meeting) -> dt.date:
    """The first day of the meeting's month, where it meets."""
    return meeting.starts_at.astimezone(zoneinfo.ZoneInfo(meeting.time_zone)).date().replace(day=1)


def force_over_time(meeting: Meeting, as_of: dt.datetime, *, country_name: CountryName,
                    category_name: CategoryName) -> dict[str, Any]:
    """Per capability the lowest daily offered, committed and conditional totals of each of the 12 months from
    the meeting's month against the requirement; the handovers between rotations (with the two pledges'
    countries and amounts) and the pledges ending with nobody relieving them."""
    viewer: Any = BRIEF_VIEWER  # a Reader by duck type (role, country), as coalition_force takes it
    timeline = coalition_timeline(coalition=meeting.coalition, user=viewer, start=first_month(meeting),
                                  months=MONTHS, as_of=as_of)
    names = {code: country_name(code, name) for code, name in Country.objects.values_list("code", "name")}
    categories = {code: category_name(name) for code, name in CapabilityCategory.objects.values_list("code", "name")}
    # The amounts of the pledges in a handover (the relieved one may be withdrawn since): one query, as recorded.
    ids = {pk for h in timeline.handovers for pk in (h.relieved, h.relieving)}
    rows, _caveats, _deliveries = read_sources(BRIEF_VIEWER, as_of)
    quantities = dict(rows.filter(id__in=ids).values_list("id", "quantity")) if ids else {}
    return {
        "start": timeline.start,
        "months": timeline.months,
        "capabilities": [
            {"category": line.category, "category_name": categories[line.category], "unit": line.unit,
             "requirement": line.requirement,
             "months": [{"month": m.month, "offered": m.offered, "committed": m.committed,
                         "conditional": m.conditional, "gap": m.gap} for m in line.months]}
            for line in timeline.capabilities
        ],
        "handovers": [
            {"relieved": h.relieved, "relieving": h.relieving, "category": h.category,
             "category_name": categories[h.category], "unit": h.unit,
             "relieved_code": h.relieved_country, "relieved_country": names.get(h.relieved_country, h.relieved_country),
             "relieving_code": h.relieving_country,
             "relieving_country": names.get(h.relieving_country, h.relieving_country),
             "relieved_quantity": quantities.get(h.relieved), "relieving_quantity": quantities.get(h.relieving),
             "ends_on": h.ends_on, "starts_on": h.starts_on, "uncovered_days": h.uncovered_days}
            for h in timeline.handovers
        ],
        "ending_unrelieved": [
            {"pledge": e.pledge, "code": e.country, "country": names.get(e.country, e.country),
             "category": e.category, "category_name": categories[e.category], "unit": e.unit,
             "quantity": e.quantity, "ends_on": e.ends_on}
            for e in timeline.ending_unrelieved
        ],
    }


def conditions(meeting: Meeting, as_of: dt.datetime, force: Mapping[str, Any], *,
               category_name: CategoryName) -> dict[str, Any]:
    """Each named condition of the coalition with its status and what hangs on it (from the brief's force
    picture, `force`: coalition_force(...).as_dict() as of the brief, its categories already named in the brief's
    language), and the force per capability if every open condition failed and if every open one were met."""
    statuses = dict(ConditionStatus.choices)
    states = condition_states(coalition_id=meeting.coalition_id, as_of=as_of)
    still_open = sorted(pk for pk, state in states.items() if state.status == ConditionStatus.OPEN)
    failed = Assumptions(dict.fromkeys(still_open, ConditionStatus.FAILED.value))
    met = Assumptions(dict.fromkeys(still_open, ConditionStatus.MET.value))
    scenarios = [
        {"category": line["category"], "category_name": line["category_name"], "unit": line["unit"],
         "requirement": line["requirement"], "committed": line["confirmed"], "gap": line["gap"],
         "conditional": line["conditional"]}
        for line in force["categories"]
    ]
    for name, assume in (("if_failed", failed), ("if_met", met)):
        # With no open condition both reads are the brief's own picture: no query for them.
        lines = ({(line.category, line.unit): line for line in coalition_force(
            coalition=meeting.coalition, user=BRIEF_VIEWER, as_of=as_of, assume=assume).categories}
            if still_open else {})
        for row in scenarios:
            read = lines.get((row["category"], row["unit"]))
            if read is not None:
                row |= {f"committed_{name}": read.confirmed, f"gap_{name}": read.gap,
                        f"conditional_{name}": read.conditional}
            elif still_open:  # nothing of it counts in that read
                row |= {f"committed_{name}": 0, f"gap_{name}": row["requirement"], f"conditional_{name}": 0}
            else:
                row |= {f"committed_{name}": row["committed"], f"gap_{name}": row["gap"],
                        f"conditional_{name}": row["conditional"]}
    return {
        "open": still_open,
        "assume_failed": failed.as_query(),
        "assume_met": met.as_query(),
        "lines": [
            {"id": c["id"], "name": c["name"], "status": c["status"], "status_label": str(statuses[c["status"]]),
             "decided_on": c["decided_on"],
             "capabilities": [{"category": a["category"], "category_name": category_name(a["category_name"]),
                               "unit": a["unit"], "offered": a["offered"], "committed": a["committed"],
                               "pledge_count": a["pledge_count"]} for a in c["capabilities"]]}
            for c in force["conditions"]
        ],
        "scenarios": scenarios,
    }
