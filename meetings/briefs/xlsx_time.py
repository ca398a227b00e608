"""The annex sheets of "Force over time" and "Conditions": the same figures as the PDF's pages, every row.

The sheet writer is the annex's own (meetings.briefs.xlsx), handed in, so that this module does not import the
module that calls it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils.translation import gettext as _
from openpyxl import Workbook

NOTHING_HANGS = {"category": None, "category_name": None, "unit": None, "offered": 0, "committed": 0, "pledge_count": 0}
SheetWriter = Callable[[Workbook, str, list[str], list[list[Any]], list[int]], None]


def add_sheets(book: Workbook, snap: dict[str, Any], sheet: SheetWriter) -> None:
    """"Force over time" (one row per capability and month, the API's timeline CSV columns and more), "Handovers",
    "Ending unrelieved", "Conditions" (one row per condition and capability hanging on it) and "Scenarios"."""
    over_time = snap.get("over_time") or {"capabilities": [], "handovers": [], "ending_unrelieved": []}
    sheet(book, _("Force over time"),
          [_("Category"), _("Category name"), _("Unit"), _("Month"), _("Requirement"), _("Offered"), _("Committed"),
           _("Conditional"), _("Gap")],
          [[c["category"], c["category_name"], c["unit"], m["month"], c["requirement"], m["offered"], m["committed"],
            m["conditional"], m["gap"]] for c in over_time["capabilities"] for m in c["months"]],
          [14, 30, 12, 10, 12, 11, 11, 12, 10])
    sheet(book, _("Handovers"),
          [_("Category"), _("Category name"), _("Unit"), _("Relieved pledge id"), _("Relieved country code"),
           _("Relieved country"), _("Relieved quantity"), _("Ends on"), _("Relieving pledge id"),
           _("Relieving country code"), _("Relieving country"), _("Relieving quantity"), _("Starts on"),
           _("Uncovered days")],
          [[h["category"], h["category_name"], h["unit"], h["relieved"], h["relieved_code"], h["relieved_country"],
            h["relieved_quantity"], h["ends_on"], h["relieving"], h["relieving_code"], h["relieving_country"],
            h["relieving_quantity"], h["starts_on"], h["uncovered_days"]] for h in over_time["handovers"]],
          [14, 24, 12, 10, 10, 20, 10, 12, 10, 10, 20, 10, 12, 10])
    sheet(book, _("Ending unrelieved"),
          [_("Pledge id"), _("Country code"), _("Country"), _("Category"), _("Category name"), _("Quantity"),
           _("Unit"), _("Last day")],
          [[e["pledge"], e["code"], e["country"], e["category"], e["category_name"], e["quantity"], e["unit"],
            e["ends_on"]] for e in over_time["ending_unrelieved"]],
          [10, 10, 20, 14, 30, 10, 12, 12])
    conditions = snap.get("conditions") or {"lines": [], "scenarios": []}
    sheet(book, _("Conditions"),
          [_("Condition id"), _("Condition"), _("Status"), _("Decided on"), _("Category"), _("Category name"),
           _("Unit"), _("Offered"), _("Committed"), _("Pledges")],
          [[line["id"], line["name"], line["status"], line["decided_on"], a["category"], a["category_name"],
            a["unit"], a["offered"], a["committed"], a["pledge_count"]]
           for line in conditions["lines"] for a in line["capabilities"] or [NOTHING_HANGS]],
          [10, 40, 10, 12, 14, 30, 12, 11, 11, 9])
    sheet(book, _("Scenarios"),
          [_("Category"), _("Category name"), _("Unit"), _("Requirement"), _("Committed"), _("Gap"),
           _("Committed if all open fail"), _("Gap if all open fail"), _("Conditional if all open fail"),
           _("Committed if all open are met"), _("Gap if all open are met"), _("Conditional if all open are met"),
           _("Assumed (failed)"), _("Assumed (met)")],
          [[s["category"], s["category_name"], s["unit"], s["requirement"], s["committed"], s["gap"],
            s["committed_if_failed"], s["gap_if_failed"], s["conditional_if_failed"], s["committed_if_met"],
            s["gap_if_met"], s["conditional_if_met"], conditions.get("assume_failed", ""),
            conditions.get("assume_met", "")] for s in conditions["scenarios"]],
          [14, 30, 12, 12, 11, 10, 14, 12, 14, 14, 12, 14, 20, 20])
