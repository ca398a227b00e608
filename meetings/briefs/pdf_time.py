"""The brief's pages "Force over time" and "Conditions", drawn from the snapshot's `over_time` and `conditions`.

The page machinery (styles, tables, number and date formats) is the brief's own (meetings.briefs.pdf), handed in as
a Kit, so that this module does not import pdf.py (which calls it): one arrow, as the layout test requires.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from django.utils.formats import date_format
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from matplotlib.ticker import FuncFormatter, MaxNLocator
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, Image, PageBreak, Paragraph, Spacer, Table, TableStyle

from meetings.briefs.charts import figure_image

NAVY, LIGHT_BLUE, RED, GREEN, GREY = "#1F3A5F", "#8FB3D9", "#A4161A", "#2D6A4F", "#5C6670"


@dataclass(frozen=True)
class Kit:
    """What the brief's PDF lends these pages: its styles, its table, its formats and its page width."""

    styles: dict[str, ParagraphStyle]
    table: Callable[..., Table]
    esc: Callable[[Any], str]
    num: Callable[[int | None], str]
    date: Callable[[str | None], str]
    gap: Callable[[int | None], str]
    more_in_annex: Callable[[int, str, dict[str, ParagraphStyle]], list[Paragraph]]
    width: float
    listed: int


def _month(month: str) -> dt.date:
    return dt.date.fromisoformat(f"{month}-01")


def _month_label(month: str, index: int) -> str:
    """"Apr", with the year under it for the first month and each January (but the second month: the first one's
    year would touch it)."""
    day = _month(month)
    # English "Mar", "Apr" (AP style's "March April" ran together under the bars); French "juin", "juil.": no two
    # months alike in either language
    label = date_format(day, "M" if get_language().startswith("en") else "N")
    return f"{label}\n{day.year}" if index == 0 or (day.month == 1 and index != 1) else label


def _figure_image(fig: Any, kit: Kit) -> Image:
    width, height = fig.get_size_inches()
    return figure_image(fig, width=kit.width, height=kit.width * height / width)


def _panel(ax: Any, line: dict[str, Any], kit: Kit) -> None:
    months = line["months"]
    x = list(range(len(months)))
    committed = [m["committed"] for m in months]
    rest = [m["offered"] - m["committed"] for m in months]
    ax.bar(x, committed, width=0.72, color=NAVY, label=_("Confirmed or deployed"))
    ax.bar(x, rest, width=0.72, bottom=committed, color=LIGHT_BLUE, label=_("Indicative (not counted)"))
    requirement = line["requirement"]
    top = max([m["offered"] for m in months] + [requirement or 0, 1])
    if requirement:
        ax.axhline(requirement, color=RED, linewidth=1.3, linestyle="--", label=_("Requirement"))
    # The name on its own line(s), wrapped to the panel's width; the unit and the requirement under it.
    name = textwrap.shorten(line["category_name"], 80, placeholder="…")
    subtitle = f"({line['unit']})"
    if requirement:
        subtitle += " · " + _("requirement %(amount)s") % {"amount": kit.num(requirement)}
    ax.set_title("\n".join(textwrap.wrap(name, 44)) + "\n" + subtitle, fontsize=7.5, loc="left",
                 color="#1A1A1A", fontweight="bold", linespacing=1.3)
    ax.set_xticks(x, [_month_label(m["month"], i) for i, m in enumerate(months)], fontsize=6)
    ax.set_ylim(0, top * 1.12)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _pos: kit.num(int(value))))
    ax.tick_params(axis="y", labelsize=6.5)
    ax.tick_params(axis="x", length=0)
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", color="#DDE3EA", linewidth=0.5)
    ax.set_axisbelow(True)


def _charts(capabilities: list[dict[str, Any]], kit: Kit) -> list[Any]:
    """One small chart per capability, two to a row; each row its own image, so a page may end between rows."""
    plt.rcParams["font.family"] = "DejaVu Sans"
    plt.rcParams["text.parse_math"] = False  # a "$" in a category name is a dollar sign, not TeX
    images: list[Any] = []
    for index in range(0, len(capabilities), 2):
        pair = capabilities[index:index + 2]
        legend = index == 0
        fig, axes = plt.subplots(1, 2, figsize=(7.2, 2.05 + (0.3 if legend else 0)), dpi=200)
        for ax, line in zip(axes, pair, strict=False):
            _panel(ax, line, kit)
        if len(pair) == 1:
            axes[1].set_axis_off()
        if legend:
            handles, labels = axes[0].get_legend_handles_labels()
            fig.legend(handles, labels, loc="upper center", ncol=3, fontsize=7, frameon=False)
            fig.tight_layout(rect=(0, 0, 1, 0.88), w_pad=2.5)
        else:
            fig.tight_layout(w_pad=2.5)
        images.append(_figure_image(fig, kit))
    return images


def _month_table(capabilities: list[dict[str, Any]], kit: Kit) -> Table:
    """Committed (confirmed or deployed) on the lowest day of each month, per capability; short months in red, a
    month with a day of none (where other months have some) shaded."""
    st = kit.styles
    small = ParagraphStyle("month_cell", parent=st["cell_right"], fontSize=6.5, leading=8)
    head = ParagraphStyle("month_head", parent=st["head_right"], fontSize=6.5, leading=8)
    first = ParagraphStyle("month_first", parent=st["cell"], fontSize=7, leading=8.5)
    months = capabilities[0]["months"]
    header = [Paragraph(_("Capability"), ParagraphStyle("month_head_left", parent=head, alignment=0))] + [
        Paragraph(kit.esc(_month_label(m["month"], i)).replace("\n", "<br/>"), head)
        for i, m in enumerate(months)]
    rows, holes = [header], []
    for row, line in enumerate(capabilities, start=1):
        ever = any(m["committed"] for m in line["months"])
        label = f"<b>{kit.esc(line['category_name'])}</b> ({kit.esc(line['unit'])})"
        if line["requirement"]:
            label += "<br/>" + _("requirement %(amount)s") % {"amount": kit.num(line["requirement"])}
        cells = [Paragraph(label, first)]
        for column, m in enumerate(line["months"], start=1):
            text = kit.num(m["committed"])
            if ever and not m["committed"]:  # a month with a day of nothing committed, where others have some
                holes.append((column, row))
            if m["gap"] is not None and m["gap"] > 0:
                text = f'<font color="{RED}"><b>{text}</b></font>'
            cells.append(Paragraph(text, small))
        rows.append(cells)
    widths = [0.2 * kit.width] + [0.8 * kit.width / len(months)] * len(months)
    table = Table(rows, colWidths=widths, repeatRows=1)
    style = [("BACKGROUND", (0, 0), (-1, 0), NAVY), ("VALIGN", (0, 0), (-1, -1), "TOP"),
             ("LEFTPADDING", (0, 0), (-1, -1), 2), ("RIGHTPADDING", (0, 0), (-1, -1), 2),
             ("TOPPADDING", (0, 0), (-1, -1), 2.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
             ("LINEBELOW", (0, 1), (-1, -1), 0.25, "#C9D2DC")]
    style += [("BACKGROUND", (0, i), (-1, i), "#EEF2F6") for i in range(2, len(rows), 2)]
    style += [("BACKGROUND", cell, cell, "#F6D5D5") for cell in holes]
    table.setStyle(TableStyle(style))
    return table


def _uncovered(days: int | None, kit: Kit) -> str:
    if days is None:
        return "—"
    if days > 0:
        return f'<font color="{RED}"><b>' + ngettext("%(days)s day uncovered", "%(days)s days uncovered", days) % {
            "days": kit.num(days)} + "</b></font>"
    if days < 0:
        return f'<font color="{GREEN}">' + ngettext("%(days)s day of overlap", "%(days)s days of overlap", -days) % {
            "days": kit.num(-days)} + "</font>"
    return f'<font color="{GREEN}">' + _("seamless") + "</font>"


def _side(country: str, quantity: int | None, unit: str, label: str, day: str | None, kit: Kit) -> str:
    amount = f" {kit.num(quantity)} {kit.esc(unit)}" if quantity is not None else ""
    when = label % {"day": kit.date(day)} if day else _("open-ended")
    return f"<b>{kit.esc(country)}</b>{amount}<br/>{when}"


def over_time_pages(snap: dict[str, Any], kit: Kit, number: int) -> list[Any]:
    st, data = kit.styles, snap.get("over_time")
    story: list[Any] = [PageBreak(), Paragraph(_("%(number)s. Force over time") % {"number": number}, st["h1"])]
    if not data:
        return [*story, Paragraph(_("This brief was compiled before the force over time was recorded."), st["body"])]
    capabilities = data["capabilities"]
    first, last = capabilities[0]["months"][0]["month"] if capabilities else data["start"], None
    if capabilities:
        last = capabilities[0]["months"][-1]["month"]
    story.append(Paragraph(
        _("The force that stands through each of the %(months)s months from the meeting's month, per capability: "
          "each month shows its <b>lowest day</b>, so a single day without cover shows. Dark: confirmed or "
          "deployed; light: indicative. The dashed red line is the requirement. Only pledges available on the day "
          "count (from their first to their last day).") % {
            "months": data["months"]}, st["body"]))
    story.append(Spacer(1, 2 * mm))
    if not capabilities:
        story.append(Paragraph(_("No pledge is available in these months and no requirement is set."), st["body"]))
    else:
        story += _charts(capabilities, kit)
        story += [Spacer(1, 2 * mm), CondPageBreak(40 * mm), Paragraph(
            _("Confirmed or deployed on the lowest day of each month, %(first)s to %(last)s") % {
                "first": date_format(_month(first), "F Y"), "last": date_format(_month(last or first), "F Y")},
            st["h2"]), _month_table(capabilities, kit),
            Paragraph(_("In red: short of the requirement that month. Shaded: a month with a day when nothing was "
                        "confirmed, where other months have some (a hole between rotations). Every month's offered, "
                        "confirmed and conditional figures are in the XLSX annex, sheet “%(sheet)s”.") % {
                "sheet": _("Force over time")}, st["small"])]
    handovers = data["handovers"]
    holes = sum(1 for h in handovers if (h["uncovered_days"] or 0) > 0)
    story += [CondPageBreak(35 * mm), Paragraph(_("Handovers between rotations (%(count)s)") % {
        "count": kit.num(len(handovers))}, st["h2"])]
    if handovers:
        if holes:  # kept with the table it speaks of
            story.append(Paragraph(f'<font color="{RED}"><b>' + ngettext(
                "%(count)s handover leaves days without cover.", "%(count)s handovers leave days without cover.",
                holes) % {"count": kit.num(holes)} + "</b></font>",
                ParagraphStyle("warning", parent=st["body"], keepWithNext=1, spaceAfter=2)))
        rows = []
        for h in handovers[:kit.listed]:
            short = (h["relieved_quantity"] - h["relieving_quantity"]
                     if h["relieved_quantity"] is not None and h["relieving_quantity"] is not None else 0)
            relief = _side(h["relieving_country"], h["relieving_quantity"], h["unit"], _("from %(day)s"),
                           h["starts_on"], kit)
            if short > 0:
                relief += f'<br/><font color="{RED}">' + _("%(amount)s fewer") % {"amount": kit.num(short)} + "</font>"
            rows.append([f"<b>{kit.esc(h['category_name'])}</b>",
                         _side(h["relieved_country"], h["relieved_quantity"], h["unit"], _("until %(day)s"),
                               h["ends_on"], kit),
                         relief, _uncovered(h["uncovered_days"], kit)])
        story.append(kit.table([_("Capability"), _("Ends"), _("Relieved by"), _("Between them")], rows,
                               [0.22, 0.27, 0.29, 0.22]))
        story += kit.more_in_annex(len(handovers), _("Handovers"), st)
    else:
        story.append(Paragraph(_("No rotation hands over in these months."), st["body"]))
    ending = data["ending_unrelieved"]
    story.append(Paragraph(_("Pledges ending with nobody relieving them (%(count)s)") % {
        "count": kit.num(len(ending))}, st["h2"]))
    if ending:
        rows = [[kit.esc(e["country"]), kit.esc(e["category_name"]), kit.num(e["quantity"]), kit.esc(e["unit"]),
                 kit.date(e["ends_on"])] for e in ending[:kit.listed]]
        story.append(kit.table([_("Country"), _("Capability"), _("Quantity"), _("Unit"), _("Last day")], rows,
                               [0.24, 0.3, 0.14, 0.14, 0.18], right={2}, bold_first_column=True))
        story += kit.more_in_annex(len(ending), _("Ending unrelieved"), st)
    else:
        story.append(Paragraph(_("No pledge ends in these months without a relief."), st["body"]))
    return story


def _status(line: dict[str, Any], kit: Kit) -> str:
    colour = {"open": GREY, "met": GREEN, "failed": RED}.get(line["status"], GREY)
    text = f'<font color="{colour}"><b>{kit.esc(line["status_label"])}</b></font>'
    if line["decided_on"]:
        text += "<br/>" + _("on %(day)s") % {"day": kit.date(line["decided_on"])}
    return text


def _hanging(line: dict[str, Any], kit: Kit) -> str:
    if not line["capabilities"]:
        return _("No offered pledge names it.")
    return "<br/>".join(
        _("%(capability)s: %(offered)s %(unit)s offered, %(committed)s confirmed (%(pledges)s)") % {
            "capability": f"<b>{kit.esc(a['category_name'])}</b>", "offered": kit.num(a["offered"]),
            "unit": kit.esc(a["unit"]), "committed": kit.num(a["committed"]),
            "pledges": ngettext("%(count)s pledge", "%(count)s pledges", a["pledge_count"]) % {
                "count": kit.num(a["pledge_count"])}}
        for a in line["capabilities"])


def conditions_pages(snap: dict[str, Any], kit: Kit, number: int) -> list[Any]:
    st, data = kit.styles, snap.get("conditions")
    story: list[Any] = [CondPageBreak(90 * mm), Paragraph(_("%(number)s. Conditions") % {"number": number},
                                                          st["h1"])]
    if not data:
        return [*story, Paragraph(_("This brief was compiled before conditions were recorded."), st["body"])]
    story.append(Paragraph(
        _("The named conditions pledges hang on. A pledge under a <b>failed</b> condition counts nowhere; under a "
          "<b>met</b> one it is firm; under an <b>open</b> one it counts, as conditional. What hangs on each is "
          "the amount offered under a caveat naming it."), st["body"]))
    story.append(Spacer(1, 3 * mm))
    if not data["lines"]:
        return [*story, Paragraph(_("The coalition has no named conditions."), st["body"])]
    rows = [[f"<b>{kit.esc(line['name'])}</b>", _status(line, kit), _hanging(line, kit)] for line in data["lines"]]
    story.append(kit.table([_("Condition"), _("Status"), _("What hangs on it")], rows, [0.3, 0.16, 0.54]))
    story.append(Paragraph(_("If every open condition fails, or if all are met"), st["h2"]))
    if not data["open"]:
        story.append(Paragraph(_("No condition is open: the force picture above is the force as decided."),
                               st["body"]))
        return story
    story.append(Paragraph(ngettext(
        "The force per capability with the %(count)s open condition read as failed, then as met (nothing is "
        "decided by it). Confirmed includes deployed; the gap is the requirement minus it.",
        "The force per capability with the %(count)s open conditions all read as failed, then all as met (nothing "
        "is decided by it). Confirmed includes deployed; the gap is the requirement minus it.",
        len(data["open"])) % {"count": kit.num(len(data["open"]))}, st["body"]))
    story.append(Spacer(1, 2 * mm))
    rows = [[kit.esc(s["category_name"]), kit.esc(s["unit"]), kit.num(s["requirement"]),
             kit.num(s["committed_if_failed"]), kit.gap(s["gap_if_failed"]), kit.num(s["committed_if_met"]),
             kit.gap(s["gap_if_met"]), kit.num(s["committed_if_met"] - s["committed_if_failed"])]
            for s in data["scenarios"]]
    story.append(kit.table(
        [_("Capability"), _("Unit"), _("Required"), _("Confirmed if all fail"), _("Gap if all fail"),
         _("Confirmed if all met"), _("Gap if all met"), _("At stake")],
        rows, [0.19, 0.1, 0.1, 0.12, 0.12, 0.12, 0.12, 0.13], right={2, 3, 4, 5, 6, 7}))
    return story
