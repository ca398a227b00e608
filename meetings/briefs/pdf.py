"""Render a brief's snapshot as a PDF a minister can read: reportlab for the pages, with matplotlib's images (the
charts of meetings.briefs.charts, the map of meetings.briefs.map_figure).

The fonts (DejaVu Sans) come with matplotlib, so every name (Rzeszów, Türkiye,
Łódź) prints without system packages.
"""

from __future__ import annotations

import datetime as dt
import html
import io
from functools import cache
from pathlib import Path
from typing import Any

import matplotlib
from django.utils.formats import date_format, number_format
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext, pgettext
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Frame,
    KeepTogether,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from meetings.briefs import pdf_time
from meetings.briefs.charts import delivery_chart, force_chart
from meetings.briefs.map_figure import map_figure
from meetings.briefs.sections import section_cover_figures, section_pages, section_titles
from utilities.text import printable

# Rows of a list of tranches, stale pledges or changes in the PDF; the XLSX annex has them all. (Every caveat is
# listed whole: that is what a brief is for, and the text rule bounds each one.)
LISTED_IN_PDF = 150
NAVY = colors.HexColor("#1F3A5F")
RED = colors.HexColor("#A4161A")
GREEN = colors.HexColor("#2D6A4F")
GREY = colors.HexColor("#5C6670")
LIGHT = colors.HexColor("#EEF2F6")
RULE = colors.HexColor("#C9D2DC")
MARGIN = 18 * mm
WIDTH = A4[0] - 2 * MARGIN
CELL_PADDING = 4
MAX_CELL_LINES = 14  # a table row never splits across pages: longer texts are cut, and whole in the XLSX
CUT_NOTE = gettext_noop("[…] full text in the XLSX annex")  # translated where it is written


@cache
def _fonts() -> tuple[str, str]:
    ttf = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    pdfmetrics.registerFont(TTFont("DejaVuSans", str(ttf / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont("DejaVuSans-Bold", str(ttf / "DejaVuSans-Bold.ttf")))
    pdfmetrics.registerFontFamily("DejaVuSans", normal="DejaVuSans", bold="DejaVuSans-Bold")
    return "DejaVuSans", "DejaVuSans-Bold"


@cache
def _styles() -> dict[str, ParagraphStyle]:
    regular, bold = _fonts()
    base = ParagraphStyle("base", fontName=regular, fontSize=9.5, leading=13)
    return {
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=10.5, textColor=GREY),
        "cell": ParagraphStyle("cell", parent=base, fontSize=8, leading=10),
        "cell_bold": ParagraphStyle("cell_bold", parent=base, fontName=bold, fontSize=8, leading=10),
        "cell_right": ParagraphStyle("cell_right", parent=base, fontSize=8, leading=10, alignment=TA_RIGHT),
        "head": ParagraphStyle("head", parent=base, fontName=bold, fontSize=7.5, leading=9.5, textColor=colors.white),
        "head_right": ParagraphStyle("head_right", parent=base, fontName=bold, fontSize=7.5, leading=9.5,
                                     textColor=colors.white, alignment=TA_RIGHT),
        # keepWithNext: a heading never ends a page apart from what it heads
        "h1": ParagraphStyle("h1", parent=base, fontName=bold, fontSize=15, leading=19, textColor=NAVY,
                             spaceBefore=14, spaceAfter=8, keepWithNext=1),
        "h2": ParagraphStyle("h2", parent=base, fontName=bold, fontSize=11, leading=14, textColor=NAVY,
                             spaceBefore=10, spaceAfter=5, keepWithNext=1),
        "cover_kicker": ParagraphStyle("cover_kicker", parent=base, fontName=bold, fontSize=11, leading=14,
                                       textColor=GREY),
        "cover_title": ParagraphStyle("cover_title", parent=base, fontName=bold, fontSize=24, leading=29,
                                      textColor=NAVY, spaceBefore=6, spaceAfter=10),
        "cover_line": ParagraphStyle("cover_line", parent=base, fontSize=11.5, leading=16),
        "marking": ParagraphStyle("marking", parent=base, fontName=bold, fontSize=10, leading=13, textColor=RED,
                                  alignment=TA_CENTER),
        "figure": ParagraphStyle("figure", parent=base, fontName=bold, fontSize=20, leading=24, textColor=NAVY,
                                 alignment=TA_CENTER),
        "figure_label": ParagraphStyle("figure_label", parent=base, fontSize=8, leading=10, textColor=GREY,
                                       alignment=TA_CENTER),
    }


def _esc(value: Any) -> str:
    """Stored text as Paragraph markup: characters no renderer takes removed, markup characters escaped."""
    return printable(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _num(value: int | None) -> str:
    return "—" if value is None else number_format(value, force_grouping=True)


def _date(value: str | None) -> str:
    """A stored ISO date as the brief's language writes it (10 April 2025, 10 avril 2025)."""
    return date_format(dt.date.fromisoformat(value), "j F Y") if value else ""


def _gap(value: int | None) -> str:
    if value is None:
        return "—"
    if value > 0:
        return f'<font color="#A4161A"><b>{_num(value)}</b></font>'
    if value < 0:
        return '<font color="#2D6A4F">' + _("+%(amount)s over") % {"amount": _num(-value)} + "</font>"
    return '<font color="#2D6A4F">' + pgettext("requirement", "met") + "</font>"


def _fit(line: str, font: str, size: float, width: float) -> list[str]:
    """A line wider than `width` with no space to break at (a long word, a URL) broken between characters."""
    if stringWidth(line, font, size) <= width:
        return [line]
    pieces, start, used = [], 0, 0.0
    for index, character in enumerate(line):
        advance = stringWidth(character, font, size)
        if used + advance > width and index > start:
            pieces.append(line[start:index])
            start, used = index, 0.0
        used += advance
    return [*pieces, line[start:]]


def _cell(text: str, style: ParagraphStyle, width: float) -> Any:
    """A plain string (wrapped into lines if long) unless the cell has markup, then a Paragraph.

    Laying out a Paragraph costs many times as much as drawing strings, and a brief on a large
    coalition has tens of thousands of cells. A table row cannot be split across pages, so a cell
    keeps at most MAX_CELL_LINES lines and says where the whole text is (the XLSX annex).
    """
    if "<" in text:  # markup: bold, colour
        return Paragraph(text, style)
    raw, available = html.unescape(text), width - 2 * CELL_PADDING
    if "\n" not in raw and stringWidth(raw, style.fontName, style.fontSize) <= available:
        return raw
    # Only so much text can fit in the lines kept (printing glyphs are at least a fifth of the font size wide).
    bound = int(MAX_CELL_LINES * available / (0.2 * style.fontSize))
    cut, raw = len(raw) > bound, raw[:bound]
    # Long text: wrapped here, at word boundaries (between characters where there is none), into lines the
    # table draws as they are.
    lines = [piece for paragraph in raw.splitlines() or [""]
             for line in (simpleSplit(paragraph, style.fontName, style.fontSize, available) or [""])
             for piece in _fit(line, style.fontName, style.fontSize, available)]
    if cut or len(lines) > MAX_CELL_LINES:
        lines = [*lines[:MAX_CELL_LINES - 1], _(CUT_NOTE)]
    return "\n".join(lines)


def _table(header: list[str], rows: list[list[Any]], widths: list[float], right: set[int] | None = None,
           group_rule_rows: list[int] | None = None, bold_first_column: bool = False) -> Table:
    right = right or set()
    st = _styles()
    column_widths = [w * WIDTH for w in widths]
    data = [[Paragraph(_esc(h), st["head_right"] if i in right else st["head"]) for i, h in enumerate(header)]]
    for row in rows:
        data.append([
            cell if not isinstance(cell, str)
            else _cell(cell, st["cell_bold" if bold_first_column and i == 0 else
                                ("cell_right" if i in right else "cell")], column_widths[i])
            for i, cell in enumerate(row)
        ])
    table = Table(data, colWidths=column_widths, repeatRows=1)
    cell = st["cell"]
    style = [
        # for the plain-string cells: the same font as the Paragraph cells
        ("FONTNAME", (0, 1), (-1, -1), cell.fontName),
        ("FONTSIZE", (0, 1), (-1, -1), cell.fontSize),
        ("LEADING", (0, 1), (-1, -1), cell.leading),
        *[("ALIGN", (i, 1), (i, -1), "RIGHT") for i in sorted(right)],
        *([("FONTNAME", (0, 1), (0, -1), st["cell_bold"].fontName)] if bold_first_column else []),
        ("BACKGROUND", (0, 0), (-1, 0), NAVY),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("LEFTPADDING", (0, 0), (-1, -1), CELL_PADDING),
        ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PADDING),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("LINEBELOW", (0, 1), (-1, -1), 0.25, RULE),
    ]
    for index in range(1, len(data)):
        if index % 2 == 0:
            style.append(("BACKGROUND", (0, index), (-1, index), LIGHT))
    for index in group_rule_rows or []:
        style.append(("LINEABOVE", (0, index), (-1, index), 0.8, NAVY))
    table.setStyle(TableStyle(style))
    return table


def _cover(snap: dict[str, Any]) -> list[Any]:
    st = _styles()
    meeting, attendance = snap["meeting"], snap["attendance"]
    lines = [
        (_("When"), meeting["when"]),
        (_("Where"), meeting["place"] or "—"),
        (_("Chairs"), ", ".join(meeting["chairs"]) or "—"),
        (_("Format"), capfirst(_("%(kind)s meeting of the %(coalition)s") % {
            "kind": meeting["kind"].lower(), "coalition": snap["coalition"]["name"]})),
    ]
    story: list[Any] = [
        Spacer(1, 22 * mm),
        Paragraph(_esc(snap["coalition"]["name"]).upper() + " · " + _("PRE-MEETING BRIEF"), st["cover_kicker"]),
        Paragraph(_esc(meeting["title"]), st["cover_title"]),
    ]
    facts = Table(
        [[Paragraph(f"<b>{label}</b>", st["cover_line"]), Paragraph(_esc(value), st["cover_line"])]
         for label, value in lines],
        colWidths=[28 * mm, WIDTH - 28 * mm],
    )
    facts.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
                               ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    story += [facts, Spacer(1, 8 * mm)]
    gaps = [line for line in snap["force"] if line["gap"] is not None and line["gap"] > 0]
    figures = [
        (_num(attendance["invited"]), _("countries invited")),
        (_num(attendance["confirmed"] + attendance["attended"]), _("confirmed or attended")),
        (_("%(short)s of %(all)s") % {"short": len(gaps),
                                      "all": sum(1 for line in snap["force"] if line["requirement"])},
         _("requirements not yet met")),
        (_num(len(snap["caveats"])), _("active caveats")),
        *section_cover_figures(snap),
    ]
    box = Table(
        [[Paragraph(value, st["figure"]) for value, _ in figures],
         [Paragraph(label, st["figure_label"]) for _, label in figures]],
        colWidths=[WIDTH / len(figures)] * len(figures),
    )
    box.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, -1), LIGHT), ("TOPPADDING", (0, 0), (-1, 0), 10),
                             ("BOTTOMPADDING", (0, 1), (-1, 1), 10), ("LINEABOVE", (0, 0), (-1, 0), 2, NAVY)]))
    story += [box, Spacer(1, 8 * mm)]
    contents = [_("Attendance"), _("Force picture"), _("Where the force stands"), _("Delivery and currency"),
                _("Contributions by country"),
                _("Caveats"), _("Changes since the previous meeting"), _("Agenda"), _("Force over time"),
                _("Conditions")]
    story.append(Paragraph("<b>" + _("Contents") + "</b>", st["body"]))
    story += [Paragraph(_esc(title), st["body"]) for title in section_titles(snap)]  # they open the body
    story += [Paragraph(f"{i}. {title}", st["body"]) for i, title in enumerate(contents, start=1)]
    story += [
        Spacer(1, 10 * mm),
        Paragraph(
            _("Brief no. %(number)s. Figures as of %(local)s (%(utc)s UTC), as recorded in the pledge tracker. "
              "Gaps count only confirmed and deployed pledges; indicative and conditional amounts are shown beside "
              "them, never added in.") % {"number": snap["brief"]["number"], "local": _esc(snap["as_of_local"]),
                                         "utc": _esc(snap["as_of"][:19].replace("T", " "))},
            st["small"],
        ),
    ]
    if snap["illustrative"]:
        story.append(Paragraph(
            _("The pledge figures in this brief are illustrative demonstration data, not national offers."),
            st["small"],
        ))
    story.append(PageBreak())
    return story


def _attendance(snap: dict[str, Any]) -> list[Any]:
    st, a = _styles(), snap["attendance"]
    story: list[Any] = [Paragraph(_("1. Attendance"), st["h1"])]
    story.append(Paragraph(
        _("<b>%(invited)s</b> countries invited: <b>%(attended)s</b> attended, <b>%(confirmed)s</b> confirmed, "
          "<b>%(declined)s</b> declined, <b>%(waiting)s</b> yet to answer.") % {
            "invited": a["invited"], "attended": a["attended"], "confirmed": a["confirmed"],
            "declined": a["declined"], "waiting": a["no_answer"]}, st["body"]))
    story.append(Spacer(1, 4 * mm))
    if not a["rows"]:
        story.append(Paragraph(_("No invitations recorded."), st["body"]))
        return story
    colour = {"declined": "#A4161A", "attended": "#2D6A4F", "confirmed": "#1F3A5F", "invited": "#5C6670"}
    rows = [[_esc(r["country"]), f'<font color="{colour[r["status"]]}">{_esc(r["status_label"])}</font>',
             _esc(r["head_of_delegation"]) or "—", _esc(r["level"]) or "—"] for r in a["rows"]]
    story.append(_table(
        [_("Country"), _("Answer"), _("Head of delegation"), _("Level")], rows, [0.28, 0.17, 0.3, 0.25]))
    return story


def _force(snap: dict[str, Any]) -> list[Any]:
    st = _styles()
    story: list[Any] = [PageBreak(), Paragraph(_("2. Force picture"), st["h1"])]
    story.append(Paragraph(
        _("Requirement against pledges, per capability and unit. <b>Confirmed</b> includes deployed. "
          "<b>Conditional</b> is the part of the offered amount subject to an active condition caveat. "
          "The <b>gap</b> (in red: still short) is the requirement minus what is confirmed; the last column is the "
          "gap if every conditional pledge fell away."), st["body"]))
    story.append(Spacer(1, 3 * mm))
    chart = force_chart(snap["force"], width=WIDTH)
    if chart is not None:
        story += [chart, Spacer(1, 3 * mm)]
    rows = [
        [_esc(line["category_name"]), _esc(line["unit"]), _num(line["requirement"]), _num(line["confirmed"]),
         _num(line["indicative"]), _num(line["conditional"]), _gap(line["gap"]), _gap(line["gap_without_conditional"])]
        for line in snap["force"]
    ]
    story.append(_table(
        [_("Capability"), _("Unit"), _("Required"), _("Confirmed"), _("Indicative"), _("Conditional"), _("Gap"),
         _("Gap without conditional")],
        rows, [0.19, 0.1, 0.1, 0.115, 0.115, 0.125, 0.1, 0.155], right={2, 3, 4, 5, 6, 7},
    ))
    return story


def _places(snap: dict[str, Any]) -> list[Any]:
    st, places = _styles(), snap.get("places", {"points": [], "unplaced": 0})
    story: list[Any] = [PageBreak(), Paragraph(_("3. Where the force stands"), st["h1"])]
    points = places["points"]
    if not points:
        story.append(Paragraph(_("No offered pledge has a place yet: locations are in words only."), st["body"]))
        return story
    story.append(Paragraph(
        _("Offered pledges by place. A circle's area is the number of pledges there; the numbers match the table "
          "below, which gives the amounts.") + " " + (
            ngettext("%(count)s offered pledge has no place (its location is in words only) and is not on the map.",
                     "%(count)s offered pledges have no place (their location is in words only) and are not on the "
                     "map.", places["unplaced"]) % {"count": _num(places["unplaced"])}
            if places["unplaced"] else ""), st["body"]))
    story.append(Spacer(1, 2 * mm))
    figure = map_figure(points, width=WIDTH)
    if figure is not None:
        story += [figure, Paragraph(_("Boundaries: Natural Earth. Places: GeoNames."), st["small"]),
                  Spacer(1, 3 * mm)]
    rows = [[str(p["number"]), f"<b>{_esc(p['name'])}</b>", _esc(p["code"]),
             _esc("; ".join(f"{q['category_name']}: {_num(q['quantity'])} {q['unit']}" for q in p["quantities"])),
             _num(p["pledges"])] for p in points[:LISTED_IN_PDF]]
    story.append(_table([_("No."), _("Place"), _("Country"), _("Offered there"), _("Pledges")], rows,
                        [0.07, 0.2, 0.1, 0.51, 0.12], right={0, 4}))
    story += _more_in_annex(len(points), _("Places"), st)
    return story


def _delivery(snap: dict[str, Any]) -> list[Any]:
    st, delivery = _styles(), snap["delivery"]
    story: list[Any] = [PageBreak(), Paragraph(_("4. Delivery and currency"), st["h1"])]
    story.append(Paragraph(
        _("What was offered against what has arrived, per capability and unit (tranches recorded by each country). "
          "<b>Overdue</b>: tranches whose planned day has passed without delivery. <b>Stale</b>: offers not "
          "reconfirmed within the coalition's renewal period; they are still counted in the totals."), st["body"]))
    story.append(Spacer(1, 3 * mm))
    chart = delivery_chart(delivery["capabilities"], width=WIDTH)
    if chart is not None:
        story += [chart, Spacer(1, 3 * mm)]
    rows = [
        [_esc(line["category_name"]), _esc(line["unit"]), _num(line["offered"]), _num(line["delivered"]),
         f"{100 * line['delivered'] / line['offered']:.0f}%" if line["offered"] else "—",
         _overdue(line["overdue"]), _num(line["stale"])]
        for line in delivery["capabilities"]
    ]
    story.append(_table(
        [_("Capability"), _("Unit"), _("Offered"), _("Delivered"), _("Delivered %"), _("Overdue"), _("Stale")], rows,
                        [0.24, 0.12, 0.13, 0.13, 0.13, 0.12, 0.13], right={2, 3, 4, 5, 6}))
    story.append(Paragraph(_("Overdue tranches (%(count)s)") % {"count": _num(len(delivery["overdue"]))}, st["h2"]))
    if delivery["overdue"]:
        rows = [[_esc(r["country"]), _esc(r["category"]), _num(r["quantity"]), _esc(r["unit"]),
                 _date(r["planned_on"]), _num(r["days_late"])] for r in delivery["overdue"][:LISTED_IN_PDF]]
        story.append(_table(
            [_("Country"), _("Capability"), _("Quantity"), _("Unit"), _("Planned for"), _("Days late")], rows,
                            [0.22, 0.28, 0.12, 0.12, 0.14, 0.12], right={2, 5}, bold_first_column=True))
        story += _more_in_annex(len(delivery["overdue"]), _("Overdue tranches"), st)
    else:
        story.append(Paragraph(_("No tranche is overdue."), st["body"]))
    story.append(Paragraph(_("Stale pledges (%(count)s)") % {"count": _num(len(delivery["stale"]))}, st["h2"]))
    if delivery["stale"]:
        rows = [[_esc(r["country"]), _esc(r["category"]), _num(r["quantity"]), _esc(r["unit"]), _esc(r["status"]),
                 _date(r["reconfirmed_on"]) or "—", _num(r["days_since"])] for r in delivery["stale"][:LISTED_IN_PDF]]
        story.append(_table(
            [_("Country"), _("Capability"), _("Quantity"), _("Unit"), _("Status"), _("Last reconfirmed"),
             _("Days since")],
                            rows, [0.2, 0.24, 0.1, 0.11, 0.11, 0.14, 0.1], right={2, 6}, bold_first_column=True))
        story += _more_in_annex(len(delivery["stale"]), _("Stale pledges"), st)
    else:
        story.append(Paragraph(_("Every offer has been reconfirmed in time."), st["body"]))
    return story


def _more_in_annex(total: int, sheet: str, st: dict[str, ParagraphStyle]) -> list[Paragraph]:
    """Past LISTED_IN_PDF rows a list is the annex's: the PDF says how many more, and where they are."""
    if total <= LISTED_IN_PDF:
        return []
    return [Paragraph(_("The first %(shown)s of %(total)s, by country; all %(total)s are in the XLSX annex, sheet "
                        "“%(sheet)s”.") % {"shown": _num(LISTED_IN_PDF), "total": _num(total),
                                                      "sheet": sheet}, st["body"])]


def _overdue(value: int) -> str:
    return f'<font color="#A4161A"><b>{_num(value)}</b></font>' if value else "—"


def _countries(snap: dict[str, Any]) -> list[Any]:
    st = _styles()
    story: list[Any] = [PageBreak(), Paragraph(_("5. Contributions by country"), st["h1"])]
    story.append(Paragraph(_("Offered pledges per country, capability and unit (drafts are never included)."),
                           st["body"]))
    story.append(Spacer(1, 3 * mm))
    rows, rules, previous = [], [], None
    names = {line["category"]: line["category_name"] for line in snap["force"]}
    for line in snap["countries"]:
        first = line["country_name"] != previous
        if first and previous is not None:
            rules.append(len(rows) + 1)
        previous = line["country_name"]
        rows.append([f"<b>{_esc(line['country_name'])}</b>" if first else "",
                     _esc(names.get(line["category"], line["category"])), _esc(line["unit"]),
                     _num(line["confirmed"]), _num(line["indicative"]), _num(line["conditional"])])
    if not rows:
        return [*story, Paragraph(_("No offered pledges."), st["body"])]
    story.append(_table(
        [_("Country"), _("Capability"), _("Unit"), _("Confirmed"), _("Indicative"), _("Conditional")], rows,
                        [0.2, 0.3, 0.12, 0.125, 0.125, 0.13], right={3, 4, 5}, group_rule_rows=rules))
    return story


def _caveats(snap: dict[str, Any]) -> list[Any]:
    st = _styles()
    story: list[Any] = [CondPageBreak(60 * mm), Paragraph(_("6. Caveats"), st["h1"])]
    story.append(Paragraph(_("Every active national caveat (%(count)s), with its rationale.") % {
        "count": _num(len(snap["caveats"]))}, st["body"]))
    story.append(Spacer(1, 3 * mm))
    if not snap["caveats"]:
        return [*story, Paragraph(_("No active caveats."), st["body"])]
    rows = [[_esc(c["country"]), _esc(c["kind_label"]), _esc(c["text"]), _esc(c["rationale"]) or "—",
             _esc(c["scope"])] for c in snap["caveats"]]
    story.append(_table([_("Country"), _("Kind"), _("Caveat"), _("Rationale"), _("Applies to")], rows,
                        [0.14, 0.14, 0.3, 0.21, 0.21], bold_first_column=True))
    return story


def _changes(snap: dict[str, Any]) -> list[Any]:
    st, changes = _styles(), snap["changes"]
    story: list[Any] = [CondPageBreak(60 * mm), Paragraph(_("7. Changes since the previous meeting"), st["h1"])]
    if changes["previous_meeting"] is None:
        return [*story, Paragraph(_("This is the coalition's first meeting on record."), st["body"])]
    prev = changes["previous_meeting"]
    story.append(Paragraph(
        _("Since <b>%(title)s</b> (%(when)s) up to the data date of this brief: %(pledges)s pledge changes, "
          "%(deliveries)s deliveries, %(caveats)s caveat changes.") % {
            "title": _esc(prev["title"]), "when": _esc(prev["when"]), "pledges": _num(len(changes["pledges"])),
            "deliveries": _num(len(changes.get("deliveries", []))), "caveats": _num(len(changes["caveats"]))},
        st["body"]))
    story.append(Paragraph(_("Pledges"), st["h2"]))
    if changes["pledges"]:
        rows = [[_esc(c["kind_label"]), _esc(c["country"]), _esc(c["category"]), _esc(c["before"]),
                 _esc(c["after"])] for c in changes["pledges"][:LISTED_IN_PDF]]
        story.append(_table([_("Change"), _("Country"), _("Capability"), _("Before"), _("After")], rows,
                            [0.14, 0.16, 0.26, 0.22, 0.22]))
        story += _more_in_annex(len(changes["pledges"]), _("Changes"), st)
    else:
        story.append(Paragraph(_("No pledge changes."), st["body"]))
    story.append(Paragraph(_("Deliveries made"), st["h2"]))
    if changes.get("deliveries"):
        rows = [[_esc(c["country"]), _esc(c["category"]), _num(c["quantity"]), _esc(c["unit"]),
                 _date(c["delivered_on"])] for c in changes["deliveries"][:LISTED_IN_PDF]]
        story.append(_table([_("Country"), _("Capability"), _("Quantity"), _("Unit"), _("Delivered on")], rows,
                            [0.24, 0.32, 0.14, 0.14, 0.16], right={2}))
        story += _more_in_annex(len(changes["deliveries"]), _("Changes"), st)
    else:
        story.append(Paragraph(_("No deliveries recorded."), st["body"]))
    story.append(Paragraph(_("Caveats"), st["h2"]))
    if changes["caveats"]:
        rows = [[_esc(c["kind_label"]), _esc(c["country"]), _esc(c["text"]), _esc(c["rationale"]) or "—"]
                for c in changes["caveats"]]
        story.append(_table([_("Change"), _("Country"), _("Caveat"), _("Rationale")], rows, [0.15, 0.17, 0.4, 0.28]))
    else:
        story.append(Paragraph(_("No caveats added or lifted."), st["body"]))
    return story


def _agenda(snap: dict[str, Any]) -> list[Any]:
    st = _styles()
    story: list[Any] = [CondPageBreak(50 * mm), Paragraph(_("8. Agenda"), st["h1"])]
    if not snap["agenda"]:
        return [*story, Paragraph(_("No agenda items yet."), st["body"])]
    for item in snap["agenda"]:
        block = [Paragraph(f"<b>{item['position']}. {_esc(item['title'])}</b>", st["body"])]
        if item["description"]:
            block.append(Paragraph(_esc(item["description"]), ParagraphStyle("indent", parent=st["body"],
                                                                            leftIndent=12, textColor=GREY)))
        block.append(Spacer(1, 2 * mm))
        story.append(KeepTogether(block))
    if snap["meeting"]["outcome_notes"]:
        story += [Paragraph(_("Outcome notes"), st["h2"]),
                  Paragraph(_esc(snap["meeting"]["outcome_notes"]), st["body"])]
    return story


def render_pdf(snap: dict[str, Any]) -> bytes:
    regular, bold = _fonts()
    buffer = io.BytesIO()
    marking = snap["marking"]
    footer_left = _("%(title)s · brief no. %(number)s · data as of %(moment)s") % {
        "title": snap["meeting"]["title"], "number": snap["brief"]["number"], "moment": snap["as_of_local"]}
    page_word = _("Page")

    def decorate(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFillColor(RED)
        canvas.setFont(bold, 8.5)
        canvas.drawCentredString(A4[0] / 2, A4[1] - 10 * mm, marking)
        canvas.drawCentredString(A4[0] / 2, 8 * mm, marking)
        canvas.setStrokeColor(RULE)
        canvas.line(MARGIN, 13 * mm, A4[0] - MARGIN, 13 * mm)
        canvas.setFillColor(GREY)
        canvas.setFont(regular, 7)
        canvas.drawString(MARGIN, 14.5 * mm, footer_left[:120])
        canvas.drawRightString(A4[0] - MARGIN, 14.5 * mm, f"{page_word} {doc.page}")
        canvas.restoreState()

    doc = BaseDocTemplate(
        buffer, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=16 * mm, bottomMargin=20 * mm,
        title=_("Brief: %(title)s") % {"title": snap["meeting"]["title"]},
        author=_("%(coalition)s secretariat") % {"coalition": snap["coalition"]["name"]},
        lang=snap.get("language", "en"),
        subject=marking,
    )
    frame = Frame(doc.leftMargin, doc.bottomMargin, doc.width, doc.height, id="body")
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=decorate)])
    kit = pdf_time.Kit(styles=_styles(), table=_table, esc=_esc, num=_num, date=_date, gap=_gap,
                       more_in_annex=_more_in_annex, width=WIDTH, listed=LISTED_IN_PDF)
    # The sections of the floors above (a meeting's outcomes) open the body, before the numbered ones.
    opening = section_pages(snap, kit)
    story = [*_cover(snap), *opening, *([PageBreak()] if opening else []),
             *_attendance(snap), *_force(snap), *_places(snap), *_delivery(snap), *_countries(snap),
             *_caveats(snap), *_changes(snap), *_agenda(snap), *pdf_time.over_time_pages(snap, kit, 9),
             *pdf_time.conditions_pages(snap, kit, 10)]
    doc.build(story)
    return buffer.getvalue()
