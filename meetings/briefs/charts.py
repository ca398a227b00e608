"""The brief's bar charts, drawn by matplotlib as images for the PDF (meetings.briefs.pdf): the force against the
requirement, and what was delivered against what was offered."""

from __future__ import annotations

import io
from typing import Any

import matplotlib

matplotlib.use("Agg")  # images only, never a display

import matplotlib.pyplot as plt
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from reportlab.platypus import Image


def figure_image(fig: Any, *, width: float, height: float) -> Image:
    """The figure as an image `width` by `height` (points) for the PDF. Handed over as an uncompressed TIFF, not a
    PNG: reportlab decodes the image and compresses its pixels itself, so the PNG's compression (and its
    decoding) was work thrown away, about 50 ms a chart; the PDF is byte for byte the same."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="tiff")
    plt.close(fig)
    buffer.seek(0)
    return Image(buffer, width=width, height=height)


def _amount(value: int) -> str:
    return number_format(value, force_grouping=True)


def force_chart(force: list[dict[str, Any]], *, width: float) -> Image | None:
    """Per category with a requirement: confirmed and indicative as a share of the requirement; `width` wide."""
    lines = [line for line in force if line["requirement"]]
    if not lines:
        return None
    labels = [f"{line['category_name']}\n({_amount(line['requirement'])} {line['unit']})" for line in lines][::-1]
    confirmed = [100 * line["confirmed"] / line["requirement"] for line in lines][::-1]
    conditional = [100 * line["conditional_confirmed"] / line["requirement"] for line in lines][::-1]
    firm = [c - k for c, k in zip(confirmed, conditional, strict=True)]
    indicative = [100 * line["indicative"] / line["requirement"] for line in lines][::-1]
    plt.rcParams["font.family"] = "DejaVu Sans"
    plt.rcParams["text.parse_math"] = False  # a "$" in a category name is a dollar sign, not TeX
    fig, ax = plt.subplots(figsize=(7.2, 0.48 * len(lines) + 1.3), dpi=200)
    y = range(len(lines))
    ax.barh(y, firm, color="#1F3A5F", label=_("Confirmed or deployed"))
    ax.barh(y, conditional, left=firm, color="#1F3A5F", alpha=0.55, hatch="///", edgecolor="white",
            label=_("…of which conditional"))
    ax.barh(y, indicative, left=confirmed, color="#8FB3D9", label=_("Indicative (not counted)"))
    ax.axvline(100, color="#A4161A", linewidth=1.2, linestyle="--", label=_("Requirement"))
    for yi, c, i in zip(y, confirmed, indicative, strict=True):
        ax.text(c + i + 1.5, yi, _("%(share)s%% confirmed") % {"share": f"{c:.0f}"},
                va="center", fontsize=7, color="#333333")
    ax.set_yticks(list(y), labels, fontsize=7.5)
    ax.set_xlabel(_("Share of the requirement (%)"), fontsize=8)
    ax.set_xlim(0, max(125, *(c + i + 25 for c, i in zip(confirmed, indicative, strict=True))))
    ax.tick_params(axis="x", labelsize=7.5)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(fontsize=7, loc="lower center", bbox_to_anchor=(0.4, 1.0), ncol=2, frameon=False)
    fig.tight_layout()
    inches_wide, inches_high = fig.get_size_inches()
    return figure_image(fig, width=width, height=width * inches_high / inches_wide)


def delivery_chart(capabilities: list[dict[str, Any]], *, width: float) -> Image | None:
    """Per capability offered: how much of it has arrived (dark), how much is overdue (red), the rest to come;
    `width` wide."""
    lines = [line for line in capabilities if line["offered"]]
    if not lines:
        return None
    labels = [f"{line['category_name']}\n" + _("(%(amount)s %(unit)s offered)") % {"amount": _amount(line["offered"]),
                                                                                   "unit": line["unit"]}
              for line in lines][::-1]
    delivered = [100 * line["delivered"] / line["offered"] for line in lines][::-1]
    overdue = [min(100 * line["overdue"] / line["offered"], 100 - d) for line, d in
               zip(lines[::-1], delivered, strict=True)]
    rest = [max(100 - d - o, 0) for d, o in zip(delivered, overdue, strict=True)]
    plt.rcParams["font.family"] = "DejaVu Sans"
    plt.rcParams["text.parse_math"] = False
    fig, ax = plt.subplots(figsize=(7.2, 0.42 * len(lines) + 1.2), dpi=200)
    y = range(len(lines))
    ax.barh(y, delivered, color="#2D6A4F", label=_("Delivered"))
    ax.barh(y, overdue, left=delivered, color="#A4161A", label=_("Overdue (planned, not arrived)"))
    ax.barh(y, rest, left=[d + o for d, o in zip(delivered, overdue, strict=True)], color="#DDE3EA",
            label=_("Still to come"))
    for yi, d in zip(y, delivered, strict=True):
        ax.text(101.5, yi, _("%(share)s%% delivered") % {"share": f"{d:.0f}"}, va="center", fontsize=7, color="#333333")
    ax.set_yticks(list(y), labels, fontsize=7.5)
    ax.set_xlim(0, 125)
    ax.set_xlabel(_("Share of the amount offered (%)"), fontsize=8)
    ax.tick_params(axis="x", labelsize=7.5)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(fontsize=7, loc="lower center", bbox_to_anchor=(0.45, 1.0), ncol=3, frameon=False)
    fig.tight_layout()
    inches_wide, inches_high = fig.get_size_inches()
    return figure_image(fig, width=width, height=width * inches_high / inches_wide)
