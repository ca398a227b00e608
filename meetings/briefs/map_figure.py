"""The brief's map of where the force stands, drawn by matplotlib as an image for the PDF (meetings.briefs.pdf): the
places of the offered pledges on the region's boundaries, numbered as in the table under it."""

from __future__ import annotations

from typing import Any

import matplotlib

matplotlib.use("Agg")  # images only, never a display

import matplotlib.pyplot as plt
from matplotlib import patheffects
from matplotlib.collections import PolyCollection
from matplotlib.patches import Rectangle
from reportlab.platypus import Image

from meetings.briefs.charts import figure_image
from places.maps import Projection, country_labels, country_name, frame_around, place_labels, radius, shapes_in

MAP_HEIGHT_MAX = 6.2  # inches: the map and the start of its table on one page


def map_figure(points: list[dict[str, Any]], *, width: float) -> Image | None:
    """The places on a map of the region (places.maps: Natural Earth boundaries, the dashboard's projection and
    label placement), drawn in points so that text sizes are the sizes printed; circle areas by pledges; `width`
    wide."""
    if not points:
        return None
    width_pt = 7.2 * 72
    frame = frame_around([(p["lon"], p["lat"]) for p in points])
    projection = Projection(frame, width_pt)
    if projection.height > MAP_HEIGHT_MAX * 72:
        projection = Projection(frame, width_pt, MAP_HEIGHT_MAX * 72)
    height_pt = projection.height
    plt.rcParams["font.family"] = "DejaVu Sans"
    plt.rcParams["text.parse_math"] = False
    fig = plt.figure(figsize=(width_pt / 72, height_pt / 72), dpi=200)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width_pt)
    ax.set_ylim(height_pt, 0)
    ax.set_axis_off()
    ax.add_patch(Rectangle((0, 0), width_pt, height_pt, facecolor="#DCE8F1", edgecolor="none", zorder=0))
    shapes = shapes_in(projection, detail=0.4)
    rings = [ring for shape in shapes for ring in shape.rings]
    ax.add_collection(PolyCollection(rings, facecolors="#F4F1EA", edgecolors="#8A8F98", linewidths=0.4, zorder=1))
    heaviest = max(p["pledges"] for p in points)
    circles = [(*projection(p["lon"], p["lat"]), radius(p["pledges"], heaviest, smallest=3.5, largest=15))
               for p in points]
    ax.scatter([c[0] for c in circles], [c[1] for c in circles], s=[(2 * c[2]) ** 2 for c in circles],
               color="#1F3A5F", alpha=0.75, edgecolors="white", linewidths=0.8, zorder=3)
    texts = [f"{p['number']} {p['name']}" for p in points]
    halo = [patheffects.withStroke(linewidth=2.4, foreground="white")]
    labels, placer = place_labels(circles, texts, size=8.5, width=width_pt, height=height_pt)
    for country, name in country_labels(shapes, placer, size=7.5, name=country_name):
        ax.text(country.x, country.y, name.upper(), fontsize=7, color="#6B7380", ha="center", va="baseline",
                zorder=2)
    for text, label in zip(texts, labels, strict=True):
        if label is not None:
            ax.text(label.x, label.y, text, fontsize=8.5, fontweight="bold", color="#1A1A1A", zorder=4,
                    ha={"start": "left", "end": "right"}.get(label.anchor, "center"), va="baseline",
                    path_effects=halo)
    ax.add_patch(Rectangle((0, 0), width_pt, height_pt, facecolor="none", edgecolor="#8A8F98", linewidth=0.8,
                           zorder=5))
    return figure_image(fig, width=width, height=width * height_pt / width_pt)
