"""The force picture drawn as bullet charts: one bar per capability line, on the line's own scale.

Each line has its own unit (troops, aircraft, vessels), so no two lines share an axis: a line's scale is the
largest of its requirement and what is offered, and every figure becomes a percentage of it. The template draws
each line as an SVG whose shapes are sized in per cent, so the bar stretches to any screen width while its text
stays the size of the page's text; the numbers themselves are in the table beside the chart.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.formats import number_format
from django.utils.translation import gettext as _

from pledges.selectors import ForceLine


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
