"""Small, dependency-free SVG charts rendered at build time.

Each chart is an accessible ``<svg role="img">`` with a ``<title>`` and ``<desc>``; the pages put a
data table next to it for screen readers and people who prefer numbers. Every piece of text is
XML-escaped here, because the result is inserted into the page as markup.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH = 640
LABEL_W = 220
VALUE_W = 48
ROW_H = 26
BAR_H = 18
TOP = 8


@dataclass(frozen=True, slots=True, kw_only=True)
class Series:
    key: str
    label: str
    color: str


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _open(chart_id: str, title: str, desc: str, height: int) -> list[str]:
    return [
        f'<svg class="chart" id="{_e(chart_id)}" role="img" aria-labelledby="{_e(chart_id)}-t {_e(chart_id)}-d" '
        f'viewBox="0 0 {WIDTH} {height}" width="100%" preserveAspectRatio="xMinYMin meet" '
        f'xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{_e(chart_id)}-t">{_e(title)}</title>',
        f'<desc id="{_e(chart_id)}-d">{_e(desc)}</desc>',
    ]


def _legend(series: Sequence[Series], y: int) -> tuple[list[str], int]:
    parts: list[str] = ['<g class="legend" aria-hidden="true">']
    x = 0
    for s in series:
        # No text measurement at build time: 8.5 units per character over-estimates 14px glyphs.
        w = 34 + int(8.5 * len(s.label))
        if x + w > WIDTH:
            x, y = 0, y + 20
        parts.append(f'<rect x="{x}" y="{y}" width="14" height="14" fill="{_e(s.color)}"/>'
                     f'<text x="{x + 19}" y="{y + 12}" class="legend-label">{_e(s.label)}</text>')
        x += w
    parts.append("</g>")
    return parts, y + 24


def stacked_bars(*, chart_id: str, title: str, desc: str, series: Sequence[Series],
                 rows: Sequence[tuple[str, Sequence[int]]]) -> str:
    """Horizontal stacked bars: one row per label, one segment per series (values in series order)."""
    legend, top = _legend(series, TOP)
    height = top + ROW_H * max(len(rows), 1) + 8
    parts = _open(chart_id, title, desc, height) + legend
    biggest = max((sum(vals) for _, vals in rows), default=0) or 1
    span = WIDTH - LABEL_W - VALUE_W
    for i, (label, vals) in enumerate(rows):
        y = top + i * ROW_H
        parts.append(f'<text x="{LABEL_W - 8}" y="{y + 14}" text-anchor="end" class="bar-label">'
                     f'{_e(_clip(label, 24))}</text>')
        x = float(LABEL_W)
        for s, v in zip(series, vals, strict=True):
            if v <= 0:
                continue
            w = span * v / biggest
            parts.append(f'<rect class="bar" x="{x:.1f}" y="{y}" width="{w:.1f}" height="{BAR_H}" '
                         f'fill="{_e(s.color)}"><title>{_e(label)}: {v} {_e(s.label)}</title></rect>')
            x += w
        parts.append(f'<text x="{x + 6:.1f}" y="{y + 14}" class="bar-value">{sum(vals)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def bars(*, chart_id: str, title: str, desc: str, rows: Sequence[tuple[str, int, str]]) -> str:
    """Horizontal bars, one per ``(label, value, color)``."""
    height = TOP + ROW_H * max(len(rows), 1) + 8
    parts = _open(chart_id, title, desc, height)
    biggest = max((v for _, v, _ in rows), default=0) or 1
    span = WIDTH - LABEL_W - VALUE_W
    for i, (label, value, color) in enumerate(rows):
        y = TOP + i * ROW_H
        w = span * value / biggest if value > 0 else 0
        parts.append(f'<text x="{LABEL_W - 8}" y="{y + 14}" text-anchor="end" class="bar-label">'
                     f'{_e(_clip(label, 24))}</text>')
        if w:
            parts.append(f'<rect class="bar" x="{LABEL_W}" y="{y}" width="{w:.1f}" height="{BAR_H}" '
                         f'fill="{_e(color)}"><title>{_e(label)}: {value}</title></rect>')
        parts.append(f'<text x="{LABEL_W + w + 6:.1f}" y="{y + 14}" class="bar-value">{value}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def lines(*, chart_id: str, title: str, desc: str, labels: Sequence[str],
          series: Sequence[tuple[Series, Sequence[int]]]) -> str:
    """Counts over time: one line (with points) per series over shared period labels; the first is shaded."""
    legend, top = _legend([s for s, _ in series], TOP) if len(series) > 1 else ([], 0)
    top += 16  # room above the highest point for its axis label
    height = top + 224
    left, right, bottom = 44, 16, 40
    parts = _open(chart_id, title, desc, height) + legend
    n = len(labels)
    biggest = max((v for _, vals in series for v in vals), default=0) or 1
    plot_w, plot_h = WIDTH - left - right, height - top - bottom

    def xy(i: int, v: int) -> tuple[float, float]:
        x = left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)
        return x, top + plot_h - plot_h * v / biggest

    for frac in (0, 0.5, 1):
        y = top + plot_h - plot_h * frac
        parts.append(f'<line class="grid" x1="{left}" x2="{WIDTH - right}" y1="{y:.1f}" y2="{y:.1f}"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="axis">'
                     f'{round(biggest * frac)}</text>')
    if n:
        base_y = top + plot_h
        for k, (s, vals) in enumerate(series):
            coords = [xy(i, v) for i, v in enumerate(vals)]
            line = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
            if k == 0:
                parts.append(f'<polygon class="area" points="{coords[0][0]:.1f},{base_y:.1f} {line} '
                             f'{coords[-1][0]:.1f},{base_y:.1f}" fill="{_e(s.color)}" fill-opacity="0.12"/>')
            dash = ' stroke-dasharray="7 4"' if k else ""
            parts.append(f'<polyline class="line" points="{line}" fill="none" stroke="{_e(s.color)}" '
                         f'stroke-width="3"{dash}/>')
            for label, v, (x, y) in zip(labels, vals, coords, strict=True):
                if n > 40:  # dots would merge into a thick line
                    break
                parts.append(f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{_e(s.color)}">'
                             f'<title>{_e(label)}: {v} {_e(s.label.lower())}</title></circle>')
        # Room for a label: the first and last are anchored at their ends, so leave 1.5 label widths.
        spacing = plot_w / (n - 1) if n > 1 else plot_w
        label_w = 8.5 * max(len(lb) for lb in labels) + 12
        every = max(1, math.ceil(1.5 * label_w / spacing))
        for i, label in enumerate(labels):
            if (i % every == 0 and n - 1 - i >= every) or i == n - 1:
                x, _ = xy(i, 0)
                anchor = "start" if i == 0 and n > 1 else "end" if i == n - 1 and n > 1 else "middle"
                parts.append(f'<text x="{x:.1f}" y="{height - 14}" text-anchor="{anchor}" class="axis">'
                             f'{_e(label)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)
