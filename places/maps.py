"""The geometry of a map, shared by the dashboard (SVG) and the brief (matplotlib): country outlines from the
vendored Natural Earth boundaries, a projection fitted to a frame, outlines clipped to it, circles sized by
amount and labels placed where they do not overlap.

Nothing here knows about pledges: callers give points (longitude, latitude, weight, label) and draw what comes
back. Natural Earth's 1:50m boundaries come from the npm package world-atlas (places/data/README.md).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from places.gazetteer import numeric_to_alpha2

BOUNDARIES = Path(__file__).parent / "data" / "countries-50m.json"
EUROPE = (-12.0, 45.0, 34.0, 71.0)  # west, east, south, north: the frame when there is nothing to show
MIN_SPAN = (10.0, 6.0)  # degrees of longitude and latitude a frame shows at least
Ring = list[tuple[float, float]]


@dataclass(frozen=True)
class Outline:
    code: str  # ISO alpha-2, "" where Natural Earth gives no ISO code (Kosovo, Northern Cyprus)
    name: str
    polygons: tuple[tuple[Ring, ...], ...]  # each polygon: its outer ring, then its holes; (lon, lat) points


@cache
def outlines() -> tuple[Outline, ...]:
    """Every country of the vendored TopoJSON, its arcs decoded (delta-encoded, quantized)."""
    topology = json.loads(BOUNDARIES.read_text(encoding="utf-8"))
    (scale_x, scale_y), (move_x, move_y) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs: list[Ring] = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * scale_x + move_x, y * scale_y + move_y))
        arcs.append(points)

    def ring(indexes: list[int]) -> Ring:
        points: Ring = []
        for index in indexes:
            arc = arcs[index] if index >= 0 else arcs[~index][::-1]
            points.extend(arc if not points else arc[1:])
        return points

    codes = numeric_to_alpha2()
    found = []
    for geometry in topology["objects"]["countries"]["geometries"]:
        kind = geometry.get("type")
        if kind not in ("Polygon", "MultiPolygon"):
            continue
        shapes = [geometry["arcs"]] if kind == "Polygon" else geometry["arcs"]
        polygons = tuple(tuple(ring(r) for r in shape) for shape in shapes)
        number = geometry.get("id")
        code = codes.get(int(number), "") if number and str(number).isdigit() else ""
        found.append(Outline(code=code, name=geometry.get("properties", {}).get("name", ""), polygons=polygons))
    return tuple(found)


def frame_around(points: Sequence[tuple[float, float]], margin: float = 0.25) -> tuple[float, float, float, float]:
    """West, east, south, north around (lon, lat) points, with a margin (a share of the span), at least MIN_SPAN
    and about as wide as a page or a screen (1.4 to 2.2 times as wide as high); Europe when there are none."""
    if not points:
        return EUROPE
    west, east = min(p[0] for p in points), max(p[0] for p in points)
    south, north = min(p[1] for p in points), max(p[1] for p in points)
    span_x = max(east - west, MIN_SPAN[0])
    span_y = max(north - south, MIN_SPAN[1])
    middle_x, middle_y = (west + east) / 2, (south + north) / 2
    shrink = max(math.cos(math.radians(middle_y)), 0.2)  # a degree of longitude is this much of one of latitude
    span_x = max(span_x, 1.4 * span_y / shrink)
    span_y = max(span_y, span_x * shrink / 2.2)
    half_x, half_y = span_x * (0.5 + margin), span_y * (0.5 + margin)
    return (max(middle_x - half_x, -180), min(middle_x + half_x, 180), max(middle_y - half_y, -85),
            min(middle_y + half_y, 85))


class Projection:
    """Lambert azimuthal equal-area, centred on the frame, scaled so the frame fills `width` x `height` (y down).
    Areas keep their proportions, so countries look as big as they are wherever the map is centred."""

    def __init__(self, frame: tuple[float, float, float, float], width: float, height: float | None = None) -> None:
        west, east, south, north = frame
        self.lon0, self.lat0 = math.radians((west + east) / 2), math.radians((south + north) / 2)
        edge = [(west, lat) for lat in (south, (south + north) / 2, north)] + \
               [(east, lat) for lat in (south, (south + north) / 2, north)] + \
               [((west + east) / 2, south), ((west + east) / 2, north)]
        raw = [self._raw(lon, lat) for lon, lat in edge]
        self.min_x, max_x = min(p[0] for p in raw), max(p[0] for p in raw)
        min_y, self.max_y = min(p[1] for p in raw), max(p[1] for p in raw)
        span_x, span_y = max_x - self.min_x, self.max_y - min_y
        self.width = width
        self.height = height if height is not None else width * span_y / span_x
        self.scale = min(self.width / span_x, self.height / span_y)
        # centre the frame in the drawing when its proportions differ
        self.offset_x = (self.width - span_x * self.scale) / 2
        self.offset_y = (self.height - span_y * self.scale) / 2

    def _raw(self, lon: float, lat: float) -> tuple[float, float]:
        lam, phi = math.radians(lon) - self.lon0, math.radians(lat)
        denominator = 1 + math.sin(self.lat0) * math.sin(phi) + math.cos(self.lat0) * math.cos(phi) * math.cos(lam)
        k = math.sqrt(2 / max(denominator, 1e-9))
        return (k * math.cos(phi) * math.sin(lam),
                k * (math.cos(self.lat0) * math.sin(phi) - math.sin(self.lat0) * math.cos(phi) * math.cos(lam)))

    def __call__(self, lon: float, lat: float) -> tuple[float, float]:
        x, y = self._raw(lon, lat)
        return (self.offset_x + (x - self.min_x) * self.scale, self.offset_y + (self.max_y - y) * self.scale)


Point = tuple[float, float]


def _cut(points: Ring, inside: Callable[[Point], bool], meet: Callable[[Point, Point], Point]) -> Ring:
    out: Ring = []
    for index, current in enumerate(points):
        previous = points[index - 1]
        if inside(current):
            if not inside(previous):
                out.append(meet(previous, current))
            out.append(current)
        elif inside(previous):
            out.append(meet(previous, current))
    return out


def _at_x(x: float) -> Callable[[Point, Point], Point]:
    return lambda a, b: (x, a[1] + (b[1] - a[1]) * (x - a[0]) / (b[0] - a[0]))


def _at_y(y: float) -> Callable[[Point, Point], Point]:
    return lambda a, b: (a[0] + (b[0] - a[0]) * (y - a[1]) / (b[1] - a[1]), y)


def _clip(ring: Ring, left: float, top: float, right: float, bottom: float) -> Ring:
    """Sutherland-Hodgman: the part of a polygon ring inside a rectangle (projected coordinates)."""
    edges: list[tuple[Callable[[Point], bool], Callable[[Point, Point], Point]]] = [
        (lambda p: p[0] >= left, _at_x(left)), (lambda p: p[0] <= right, _at_x(right)),
        (lambda p: p[1] >= top, _at_y(top)), (lambda p: p[1] <= bottom, _at_y(bottom)),
    ]
    points = ring
    for inside, meet in edges:
        if not points:
            break
        points = _cut(points, inside, meet)
    return points


@dataclass(frozen=True)
class Shape:
    code: str
    name: str
    rings: tuple[Ring, ...]  # projected, clipped and thinned; draw with the even-odd rule (holes are rings)


def shapes_in(projection: Projection, *, bleed: float = 20.0, detail: float = 0.7) -> list[Shape]:
    """The countries seen through `projection`, clipped to the drawing (plus `bleed`), points closer than `detail`
    dropped: a few thousand points for a region instead of the whole world's."""
    left, top, right, bottom = -bleed, -bleed, projection.width + bleed, projection.height + bleed
    found = []
    for outline in outlines():
        rings = []
        for polygon in outline.polygons:
            for ring in polygon:
                projected = [projection(lon, lat) for lon, lat in ring]
                xs, ys = [p[0] for p in projected], [p[1] for p in projected]
                if max(xs) < left or min(xs) > right or max(ys) < top or min(ys) > bottom:
                    continue
                clipped = _clip(projected, left, top, right, bottom)
                thinned: Ring = []
                for point in clipped:
                    if not thinned or abs(point[0] - thinned[-1][0]) + abs(point[1] - thinned[-1][1]) >= detail:
                        thinned.append(point)
                if len(thinned) >= 3:
                    rings.append(thinned)
        if rings:
            found.append(Shape(code=outline.code, name=outline.name, rings=tuple(rings)))
    return found


def radius(weight: float, heaviest: float, *, smallest: float, largest: float) -> float:
    """A circle's radius: its area in proportion to the weight (the heaviest gets `largest`)."""
    if heaviest <= 0:
        return smallest
    return smallest + (largest - smallest) * math.sqrt(max(weight, 0) / heaviest)


@dataclass(frozen=True)
class Label:
    x: float
    y: float  # the text's baseline
    anchor: str  # "start", "end" or "middle"


Box = tuple[float, float, float, float]


class LabelPlacer:
    """Places labels where they overlap nothing already placed (circles, other labels) and stay inside the
    drawing; a label that fits nowhere is left out (the table beside the map has every place). `advance` is the
    average character width per font size."""

    def __init__(self, width: float, height: float, circles: Sequence[tuple[float, float, float]],
                 advance: float = 0.66) -> None:
        self.width, self.height, self.advance = width, height, advance
        self.taken: list[Box] = [(x - r, y - r, x + r, y + r) for x, y, r in circles]

    def _free(self, box: Box, own: Box | None = None) -> bool:
        inside = box[0] >= 2 and box[1] >= 2 and box[2] <= self.width - 2 and box[3] <= self.height - 2
        return inside and not any(_overlap(box, other) for other in self.taken if other != own)

    def beside(self, x: float, y: float, r: float, text: str, size: float) -> Label | None:
        """Right of a circle, else left, above or below."""
        length = len(text) * size * self.advance
        gap = r + size * 0.3
        tries = [
            (x + gap, y + size * 0.35, "start", (x + gap, y - size * 0.65, x + gap + length, y + size * 0.45)),
            (x - gap, y + size * 0.35, "end", (x - gap - length, y - size * 0.65, x - gap, y + size * 0.45)),
            (x, y - gap - size * 0.2, "middle", (x - length / 2, y - gap - size * 1.1, x + length / 2, y - gap)),
            (x, y + gap + size * 0.85, "middle", (x - length / 2, y + gap, x + length / 2, y + gap + size * 1.05)),
        ]
        own = (x - r, y - r, x + r, y + r)
        for lx, ly, anchor, box in tries:
            if self._free(box, own):
                self.taken.append(box)
                return Label(x=lx, y=ly, anchor=anchor)
        return None

    def centred(self, x: float, y: float, text: str, size: float) -> Label | None:
        length = len(text) * size * self.advance
        box = (x - length / 2, y - size * 0.8, x + length / 2, y + size * 0.3)
        if self._free(box):
            self.taken.append(box)
            return Label(x=x, y=y, anchor="middle")
        return None


def place_labels(circles: Sequence[tuple[float, float, float]], texts: Sequence[str], *, size: float,
                 width: float, height: float) -> tuple[list[Label | None], LabelPlacer]:
    """A label beside each circle (x, y, r), taken in the order given (give the biggest first); the placer, to
    place more labels (the countries') around them."""
    placer = LabelPlacer(width, height, circles)
    return [placer.beside(x, y, r, text, size) for (x, y, r), text in zip(circles, texts, strict=True)], placer


def country_labels(shapes: Sequence[Shape], placer: LabelPlacer, *, size: float, name: Callable[[Shape], str]
                   ) -> list[tuple[Label, str]]:
    """Each country's name at the middle of its largest visible part, where it fits and overlaps no place or
    its label; largest countries first. `name` gives the name to print (in the reader's language)."""
    found = []
    largest = []
    for shape in shapes:
        best = max(shape.rings, key=_area)
        largest.append((_area(best), shape, best))
    for area, shape, ring in sorted(largest, key=lambda item: -item[0]):
        text = name(shape)
        length = len(text) * size * 0.62
        xs = [p[0] for p in ring]
        if area < length * size * 4 or max(xs) - min(xs) < length * 1.2:
            continue  # too small on this map to carry its name
        x, y = _centroid(ring)
        label = placer.centred(x, y, text, size)
        if label is not None:
            found.append((label, text))
    return found


def country_name(shape: Shape) -> str:
    """The country's name in the active language (Babel's territory names), Natural Earth's where Babel has none."""
    from babel import Locale
    from django.utils import translation

    language = (translation.get_language() or "en").split("-")[0]
    try:
        return str(Locale.parse(language).territories.get(shape.code, shape.name)) if shape.code else shape.name
    except (ValueError, LookupError):
        return shape.name


def _area(ring: Ring) -> float:
    return abs(sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True))) / 2


def _centroid(ring: Ring) -> Point:
    twice = 0.0
    cx = cy = 0.0
    for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True):
        cross = x0 * y1 - x1 * y0
        twice += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    if abs(twice) < 1e-9:
        return (sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring))
    return (cx / (3 * twice), cy / (3 * twice))


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
