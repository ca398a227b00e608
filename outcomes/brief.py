"""The brief's "Decisions and actions since the previous meeting": what the coalition's previous meeting decided,
and each action with its owner, due day and status (overdue ones marked), as they stood at the brief's moment and
as the API lists them (`/api/v1/outcomes/?meeting=<previous>`); counts on the cover ("3 of 7 actions done"); a
sheet in the XLSX annex with the same rows. Registered as a brief section (meetings.briefs.sections) from
outcomes.apps, as meetings imports nothing of outcomes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext
from reportlab.platypus import Paragraph

from meetings.briefs.pdf_time import Kit
from meetings.briefs.sections import BriefSection, SheetWriter
from meetings.briefs.snapshot import country_name, meeting_when
from meetings.models import Meeting
from meetings.selectors import BRIEF_VIEWER, previous_meeting
from outcomes.models import OutcomeKind, OutcomeStatus
from outcomes.selectors import outcomes_as_of

RED = "#A4161A"
SHEET = gettext_noop("Decisions and actions")  # translated where it is written
TITLE = gettext_noop("Decisions and actions since the previous meeting")


def brief_outcomes(meeting: Meeting, as_of: dt.datetime) -> dict[str, Any]:
    """The previous meeting's outcomes as of `as_of`, in the API's order (by id), as plain JSON."""
    previous = previous_meeting(meeting)
    if previous is None:
        return {"previous_meeting": None, "rows": [], "actions": 0, "done": 0, "overdue": 0}
    statuses = dict(OutcomeStatus.choices)
    rows = [
        {
            "id": row.id, "kind": row.kind, "text": row.text,
            "owner": row.owner.code if row.owner_id else None,
            "owner_name": country_name(row.owner.code, row.owner.name) if row.owner_id else _("Secretariat"),
            "due_on": row.due_on.isoformat() if row.due_on else None, "status": row.status,
            "status_label": str(statuses.get(row.status, row.status)), "is_overdue": bool(row.overdue),
            "note": row.note, "closed_on": row.closed_on.isoformat() if row.closed_on else None,
        }
        for row in outcomes_as_of(BRIEF_VIEWER, as_of).filter(meeting_id=previous.pk).order_by("id")
    ]
    actions = [row for row in rows if row["kind"] == OutcomeKind.ACTION]
    return {
        "previous_meeting": {"id": previous.pk, "title": previous.title, "when": meeting_when(previous)},
        "rows": rows,
        "actions": len(actions),
        "done": sum(1 for row in actions if row["status"] == OutcomeStatus.DONE),
        "overdue": sum(1 for row in actions if row["is_overdue"]),
    }


def _status(row: dict[str, Any], kit: Kit) -> str:
    if row["is_overdue"]:
        return f'<font color="{RED}"><b>' + kit.esc(row["status_label"]) + " — " + kit.esc(_("overdue")) + "</b></font>"
    return kit.esc(row["status_label"])


def brief_pages(data: dict[str, Any], kit: Kit) -> list[Any]:
    st = kit.styles
    story: list[Any] = [Paragraph(_(TITLE), st["h1"])]
    previous = data["previous_meeting"]
    if previous is None:
        return [*story, Paragraph(_("This is the coalition's first meeting on record."), st["body"])]
    decisions = [row for row in data["rows"] if row["kind"] == OutcomeKind.DECISION]
    actions = [row for row in data["rows"] if row["kind"] == OutcomeKind.ACTION]
    story.append(Paragraph(
        _("At <b>%(title)s</b> (%(when)s): %(decisions)s and %(actions)s; as of the data date of this brief "
          "%(done)s done and %(overdue)s overdue.") % {
            "title": kit.esc(previous["title"]), "when": kit.esc(previous["when"]),
            "decisions": ngettext("%(count)s decision", "%(count)s decisions", len(decisions)) % {
                "count": kit.num(len(decisions))},
            "actions": ngettext("%(count)s action", "%(count)s actions", len(actions)) % {
                "count": kit.num(len(actions))},
            "done": kit.num(data["done"]), "overdue": kit.num(data["overdue"])},
        st["body"]))
    story.append(Paragraph(_("Decisions"), st["h2"]))
    if decisions:
        story += [Paragraph("• " + kit.esc(row["text"]), st["body"]) for row in decisions[:kit.listed]]
        story += kit.more_in_annex(len(decisions), _(SHEET), st)
    else:
        story.append(Paragraph(_("No decisions recorded."), st["body"]))
    story.append(Paragraph(_("Actions"), st["h2"]))
    if actions:
        rows = [[kit.esc(row["owner_name"]), kit.esc(row["text"]), kit.date(row["due_on"]), _status(row, kit),
                 kit.esc(row["note"]) or "—"] for row in actions[:kit.listed]]
        story.append(kit.table([_("Owner"), _("Action"), _("Due on"), _("Status"), _("Note")], rows,
                               [0.16, 0.38, 0.13, 0.13, 0.2]))
        story += kit.more_in_annex(len(actions), _(SHEET), st)
    else:
        story.append(Paragraph(_("No actions recorded."), st["body"]))
    return story


def brief_cover_figures(data: dict[str, Any]) -> list[tuple[str, str]]:
    if data["previous_meeting"] is None:
        return []
    return [(_("%(done)s of %(all)s") % {"done": data["done"], "all": data["actions"]}, _("actions done"))]


def brief_sheets(book: Any, data: dict[str, Any], sheet: SheetWriter) -> None:
    since = data["previous_meeting"]["title"] if data["previous_meeting"] else ""
    sheet(book, _(SHEET),
          [_("Meeting"), _("Outcome id"), _("Kind"), _("Text"), _("Owner code"), _("Owner"), _("Due on"),
           _("Status"), _("Overdue"), _("Closed on"), _("Note")],
          [[since, row["id"], row["kind"], row["text"], row["owner"] or "", row["owner_name"], row["due_on"],
            row["status"], row["is_overdue"], row["closed_on"], row["note"]] for row in data["rows"]],
          [30, 10, 10, 60, 10, 20, 12, 10, 9, 12, 40])


BRIEF_SECTION = BriefSection(key="outcomes", gather=brief_outcomes, pages=brief_pages,
                             cover_figures=brief_cover_figures, sheets=brief_sheets, title=TITLE)
