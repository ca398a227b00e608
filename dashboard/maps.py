"""The force on a map, drawn by the server as SVG: country outlines from the vendored Natural Earth boundaries
(places.maps), a circle per place whose area is the number of
offered pledges there, labels where they fit. No tiles, no
script: the page's CSP stays as it is, and nothing is asked of another server. The same numbers are in the
table under the map, each place numbered as on the map."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from places.maps import (
    Label,
    Projection,
    country_labels,
    country_name,
    frame_around,
    place_labels,
    radius,
    shapes_in,
)
from pledges.selectors import ForceMap, MapPoint

WIDTH = 960
LABEL_SIZE = 15  # px in the drawing's own units; the drawing scales with the page
COUNTRY_SIZE = 13


@dataclass(frozen=True)
class Marker:
    number: int
    x: float
    y: float
    r: float
    point: MapPoint
    label: Label | None
    text: str  # the label: its number and the place's name
    amounts: str  # what is there, in words: "Land forces: 10,950 personnel; Air defence: 2 systems"
    share: str  # the place's share of the offered pledges, in per cent
    holds: bool  # has what the circles measure (False: a ring, for a place without the chosen capability)
    summary: str  # the marker's accessible name


@dataclass(frozen=True)
class MapDrawing:
    width: int
    height: int
    land: list[tuple[str, str]]  # (country name, SVG path)
    markers: list[Marker]
    countries: list[tuple[Label, str]]  # country names, where they fit
    unplaced: int
    size_by: str  # what a circle's area is, in words

    @property
    def has_rings(self) -> bool:
        return any(not marker.holds for marker in self.markers)


def amounts_in_words(point: MapPoint) -> str:
    return "; ".join(
        _("%(capability)s: %(amount)s %(unit)s") % {
            "capability": _(q.category_name), "amount": number_format(q.quantity, force_grouping=True),
            "unit": q.unit}
        for q in point.quantities)


def capabilities_on(picture: ForceMap) -> list[tuple[str, str]]:
    """The capability lines the map's places hold, as MapSizeForm's choices ("troops/personnel", its name)."""
    seen: dict[str, str] = {}
    for point in picture.points:
        for q in point.quantities:
            seen.setdefault(f"{q.category}/{q.unit}", _("%(capability)s (%(unit)s)") % {
                "capability": _(q.category_name), "unit": q.unit})
    return sorted(seen.items(), key=lambda item: item[1])


def _amount(point: MapPoint, size_by: tuple[str, str]) -> int:
    return sum(q.quantity for q in point.quantities if (q.category, q.unit) == size_by)


def draw_force_map(picture: ForceMap, size_by: tuple[str, str] | None = None) -> MapDrawing:
    """Circles by the number of pledges at each place, or (size_by: category, unit) by that capability's amount
    there; a place without it is a small ring."""
    points = picture.points
    if size_by is not None:
        points = sorted(points, key=lambda p: (-_amount(p, size_by), -p.weight, p.place.name, p.place.pk))
    projection = Projection(frame_around([(p.place.longitude, p.place.latitude) for p in points]), WIDTH)
    height = round(projection.height)
    shapes = shapes_in(projection)
    land = [(country_name(shape), " ".join("M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in ring) + "Z"
                                           for ring in shape.rings)) for shape in shapes]
    sizes = [float(_amount(p, size_by)) if size_by else p.weight for p in points]
    heaviest = max(sizes, default=0)
    circles = [(*projection(p.place.longitude, p.place.latitude),
                radius(size, heaviest, smallest=5, largest=26) if size else 4.0) for p, size in zip(points, sizes,
                                                                                                   strict=True)]
    texts = [f"{number} {p.place.name}" for number, p in enumerate(points, start=1)]
    labels, placer = place_labels(circles, texts, size=LABEL_SIZE, width=WIDTH, height=height)
    countries = country_labels(shapes, placer, size=COUNTRY_SIZE, name=country_name)
    markers = []
    for number, (point, (x, y, r), label, text, size) in enumerate(
            zip(points, circles, labels, texts, sizes, strict=True), start=1):
        amounts = amounts_in_words(point)
        pledges = ngettext("%(count)s pledge", "%(count)s pledges", point.pledge_count) % {
            "count": point.pledge_count}
        markers.append(Marker(
            number=number, x=round(x, 1), y=round(y, 1), r=round(r, 1), point=point, label=label, text=text,
            amounts=amounts, holds=bool(size),
            share=number_format(100 * point.weight, decimal_pos=1),
            summary=f"{number}. {point.place.name} ({point.place.country_code}): {amounts} ({pledges})",
        ))
    measure = _("the number of offered pledges there")
    if size_by is not None:
        measure = _("the amount of %(capability)s there") % {
            "capability": dict(capabilities_on(picture)).get("/".join(size_by), "/".join(size_by))}
    return MapDrawing(width=WIDTH, height=height, land=land, markers=markers, countries=countries,
                      unplaced=picture.unplaced, size_by=measure)
