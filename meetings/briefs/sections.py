"""Sections of the brief added by the floors above meetings (a meeting's outcomes), registered from their own
AppConfig.ready (register_brief_section): meetings imports none of them, as the layout test requires.

A section gathers its plain-JSON data as of the brief's moment (stored in the snapshot under `sections`, by key),
lays out its pages at the start of the brief's body, may add figures to the cover's box, and writes its sheets in
the XLSX annex. The snapshot's data is all the renderers read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext

if TYPE_CHECKING:
    from meetings.briefs.pdf_time import Kit
    from meetings.models import Meeting

# The XLSX annex's sheet writer: (book, title, header, rows, widths).
SheetWriter = Callable[[Any, str, list[str], list[list[Any]], list[int]], None]


@dataclass(frozen=True)
class BriefSection:
    key: str
    gather: Callable[[Meeting, dt.datetime], dict[str, Any]]
    pages: Callable[[dict[str, Any], Kit], list[Any]]
    cover_figures: Callable[[dict[str, Any]], list[tuple[str, str]]]
    sheets: Callable[[Any, dict[str, Any], SheetWriter], None]
    # The section's line in the cover's contents, marked with gettext_noop and translated where it is shown.
    title: str = ""


BRIEF_SECTIONS: list[BriefSection] = []


def register_brief_section(section: BriefSection) -> None:
    """Add a section to every brief compiled from now on, after those already there; a key registered twice
    keeps the first."""
    if section.key not in {known.key for known in BRIEF_SECTIONS}:
        BRIEF_SECTIONS.append(section)


def gather_sections(meeting: Meeting, as_of: dt.datetime) -> dict[str, Any]:
    return {section.key: section.gather(meeting, as_of) for section in BRIEF_SECTIONS}


def _data(snap: dict[str, Any], section: BriefSection) -> dict[str, Any] | None:
    """The section's data in a snapshot; None in one stored before the section was registered."""
    found: dict[str, Any] | None = (snap.get("sections") or {}).get(section.key)
    return found


def section_pages(snap: dict[str, Any], kit: Kit) -> list[Any]:
    return [flowable for section in BRIEF_SECTIONS if (data := _data(snap, section)) is not None
            for flowable in section.pages(data, kit)]


def section_titles(snap: dict[str, Any]) -> list[str]:
    """The contents lines of the sections this brief has, in the brief's language."""
    return [gettext(section.title) for section in BRIEF_SECTIONS
            if section.title and _data(snap, section) is not None]


def section_cover_figures(snap: dict[str, Any]) -> list[tuple[str, str]]:
    return [figure for section in BRIEF_SECTIONS if (data := _data(snap, section)) is not None
            for figure in section.cover_figures(data)]


def section_sheets(book: Any, snap: dict[str, Any], sheet: SheetWriter) -> None:
    for section in BRIEF_SECTIONS:
        data = _data(snap, section)
        if data is not None:
            section.sheets(book, data, sheet)
