"""The force picture drawn as bullet charts: one bar per capability line, on the line's own scale.

Each line has its own unit (troops, aircraft, vessels), so no two lines share an axis: a line's scale is the
largest of its requirement and what is offered, and every figure becomes a percentage of it. The template draws
each line as an SVG whose shapes are sized in per cent, so the bar stretches to any screen width while its text
stays the size of the page's text; the numbers themselves are in the table beside the chart.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import formats
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from pledges.selectors import ForceLine
from pledges.timeline import CapabilityTimeline, MonthFigures


def _percent(value: int, scale: int) -> str:
    return f"{100 * value / scale:.2f}%"


def gap_words(line: ForceLine) -> str:
    if line.gap is None:
        return _("no requirement stated")
    if line.gap == 0:
        return _("requirement met")
    if line.gap > 0:
        return _("gap %(amount)s") % {"amount": number_format(line.gap, force_grouping=True)}
    return _("surplus %(amount)s") % {"amount": number_format(-line.gap, force_grouping=True)}


@dataclass(frozen=True)
class BulletBar:
    line: ForceLine
    confirmed_width: str  # confirmed or deployed, from the left
    indicative_x: str  # indicative, after the confirmed amount
    indicative_width: str
    delivered_width: str  # what has arrived, a thin bar under the offered one
    conditional_width: str  # how much of the offered amount is conditional, a thin bar under that
    requirement_x: str | None  # the requirement's mark; None when the coalition states none
    gap: str
    summary: str  # the bar in words: its accessible name


def bullet_bars(lines: list[ForceLine]) -> list[BulletBar]:
    bars = []
    for line in lines:
        offered = line.confirmed + line.indicative
        scale = max(line.requirement or 0, offered, 1)
        figures = {name: number_format(getattr(line, name) or 0, force_grouping=True)
                   for name in ("requirement", "confirmed", "delivered", "indicative", "conditional")}
        summary = (_("%(capability)s (%(unit)s): requirement %(requirement)s, confirmed %(confirmed)s, delivered "
                     "%(delivered)s, indicative %(indicative)s, conditional %(conditional)s; %(gap)s.")
                   if line.requirement is not None else
                   _("%(capability)s (%(unit)s): confirmed %(confirmed)s, delivered %(delivered)s, indicative "
                     "%(indicative)s, conditional %(conditional)s; %(gap)s.")) % {
            "capability": _(line.category_name), "unit": line.unit, "gap": gap_words(line), **figures}
        bars.append(BulletBar(
            line=line,
            confirmed_width=_percent(line.confirmed, scale),
            indicative_x=_percent(line.confirmed, scale),
            indicative_width=_percent(line.indicative, scale),
            delivered_width=_percent(min(line.delivered, offered), scale),
            conditional_width=_percent(min(line.conditional, offered), scale),
            requirement_x=None if line.requirement is None else _percent(line.requirement, scale),
            gap=gap_words(line),
            summary=summary,
        ))
    return bars


# --- the force over time -----------------------------------------------------------------------------------------
# One small chart per capability (each in its own unit), a column per month: what is offered (light) and, in front
# of it, what is committed (dark), each the lowest day of the month, against the requirement's line. Months across
# in per cent of the width, amounts up in pixels of a fixed height: the chart stretches to any width.

TIMELINE_HEIGHT = 158
PLOT_TOP, PLOT_BOTTOM = 22, 118  # the amounts' band, in px
SHORT_Y = 121  # a thin mark under a month whose committed amount falls short of the requirement
MONTH_Y, YEAR_Y = 138, 153


@dataclass(frozen=True)
class MonthColumn:
    month: dt.date
    x: str  # the month's slot, from the left
    bar_x: str
    bar_width: str
    centre: str
    offered_y: float
    offered_height: float
    committed_y: float
    committed_height: float
    short: bool  # committed below the requirement
    show_year: bool  # the first month and each January carry the year under their name
    figures: MonthFigures
    title: str  # the month in words (a tooltip)


@dataclass(frozen=True)
class TimelineChart:
    capability: CapabilityTimeline
    columns: list[MonthColumn]
    requirement_y: float | None
    requirement_words: str
    scale: int
    summary: str  # the chart in words: its accessible name
    rows: list[tuple[str, str, list[tuple[str, int | None]]]]  # the table: (measure, its name, [(month, value)])
    height: int = TIMELINE_HEIGHT
    plot_bottom: int = PLOT_BOTTOM
    short_y: int = SHORT_Y
    month_y: int = MONTH_Y
    year_y: int = YEAR_Y


def _height(value: int, scale: int) -> float:
    return round((PLOT_BOTTOM - PLOT_TOP) * value / scale, 1)


def _amount(value: int | None) -> str:
    return "—" if value is None else number_format(value, force_grouping=True)


def timeline_charts(capabilities: list[CapabilityTimeline]) -> list[TimelineChart]:
    charts = []
    for capability in capabilities:
        months = capability.months
        scale = max([capability.requirement or 0, *(m.offered for m in months), 1])
        slot = 100 / max(len(months), 1)
        columns = []
        for index, figures in enumerate(months):
            month = dt.date.fromisoformat(f"{figures.month}-01")
            offered, committed = _height(figures.offered, scale), _height(figures.committed, scale)
            columns.append(MonthColumn(
                month=month, x=f"{index * slot:.3f}%", bar_x=f"{(index + 0.14) * slot:.3f}%",
                bar_width=f"{0.72 * slot:.3f}%", centre=f"{(index + 0.5) * slot:.3f}%",
                offered_y=PLOT_BOTTOM - offered, offered_height=offered,
                committed_y=PLOT_BOTTOM - committed, committed_height=committed,
                short=figures.gap is not None and figures.gap > 0,
                show_year=index == 0 or month.month == 1, figures=figures,
                title=_("%(month)s: committed %(committed)s, offered %(offered)s, conditional %(conditional)s, "
                        "gap %(gap)s") % {
                    "month": formats.date_format(month, "YEAR_MONTH_FORMAT"),
                    "committed": _amount(figures.committed), "offered": _amount(figures.offered),
                    "conditional": _amount(figures.conditional), "gap": _amount(figures.gap)},
            ))
        requirement = capability.requirement
        short = sum(1 for column in columns if column.short)
        words = {
            "capability": _(capability.category_name), "unit": capability.unit,
            "first": formats.date_format(columns[0].month, "YEAR_MONTH_FORMAT") if columns else "",
            "last": formats.date_format(columns[-1].month, "YEAR_MONTH_FORMAT") if columns else "",
            "committed_low": _amount(min((m.committed for m in months), default=0)),
            "committed_high": _amount(max((m.committed for m in months), default=0)),
            "offered_low": _amount(min((m.offered for m in months), default=0)),
            "offered_high": _amount(max((m.offered for m in months), default=0)),
            "requirement": _amount(requirement), "short": short, "months": len(months),
        }
        summary = (_("%(capability)s (%(unit)s), the lowest day of each month from %(first)s to %(last)s: committed "
                     "%(committed_low)s to %(committed_high)s, offered %(offered_low)s to %(offered_high)s, against "
                     "a requirement of %(requirement)s; short of it in %(short)s of %(months)s months.")
                   if requirement is not None else
                   _("%(capability)s (%(unit)s), the lowest day of each month from %(first)s to %(last)s: committed "
                     "%(committed_low)s to %(committed_high)s, offered %(offered_low)s to %(offered_high)s; no "
                     "requirement stated.")) % words
        charts.append(TimelineChart(
            capability=capability, columns=columns,
            requirement_y=None if requirement is None else PLOT_BOTTOM - _height(requirement, scale),
            requirement_words=_("requirement %(amount)s") % {"amount": _amount(requirement)},
            scale=scale, summary=summary,
            rows=[(measure, label, [(m.month, getattr(m, measure)) for m in months])
                  for measure, label in (("committed", _("Committed")), ("offered", _("Offered")),
                                         ("conditional", _("Conditional")), ("gap", _("Gap")))],
        ))
    return charts
