"""Inline SVG column charts for back-office pages, drawn on the server (no script, no CDN).

A column per period (a day, say), stacked from parts that share colours across columns
(delivery and pick-up, say), with a legend; every column has a ``<title>`` so a pointer
shows its figures, and the whole chart has one for screen readers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 720, 220
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 28, 30
COLOURS = ("#417690", "#79aec8", "#c9a227", "#8c5a9e")


@dataclass(frozen=True, slots=True)
class Column:
    label: str  # under the column (e.g. "11-27")
    parts: tuple[Decimal, ...]  # stacked bottom-up, in the order of the legend
    hover: str  # the column's tooltip: its figures in words


def stacked_columns_svg(
    columns: Sequence[Column], *, legend: Sequence[str], title: str, unit: str = ""
) -> SafeString:
    """The columns side by side on one scale; the largest total labels the axis."""
    if not columns:
        return format_html("<p>{}</p>", "—")
    top = max((sum(column.parts, Decimal(0)) for column in columns), default=Decimal(0))
    scale = float(top) if top > 0 else 1.0
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = inner_w / len(columns)
    bar = max(slot * 0.7, 1.0)
    # Label at most ~12 columns so the dates do not run into each other.
    every = max(1, -(-len(columns) // 12))
    shapes: list[str] = []
    for i, column in enumerate(columns):
        x = LEFT + i * slot + (slot - bar) / 2
        base = float(TOP + inner_h)
        rects = []
        for k, part in enumerate(column.parts):
            height = inner_h * float(part) / scale
            if height <= 0:
                continue
            base -= height
            rects.append(
                f'<rect x="{x:.1f}" y="{base:.1f}" width="{bar:.1f}" height="{height:.1f}" '
                f'fill="{COLOURS[k % len(COLOURS)]}"/>'
            )
        label = ""
        if i % every == 0 or i == len(columns) - 1:
            label = (
                f'<text x="{x + bar / 2:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" '
                f'font-size="11">{escape(column.label)}</text>'
            )
        # A transparent full-height rect makes the whole slot answer the pointer.
        shapes.append(
            f"<g><title>{escape(column.hover)}</title>"
            f'<rect x="{LEFT + i * slot:.1f}" y="{TOP}" width="{slot:.1f}" height="{inner_h}" '
            f'fill="transparent"/>{"".join(rects)}{label}</g>'
        )
    keys = []
    for k, name in enumerate(legend):
        kx = LEFT + k * 150
        keys.append(
            f'<rect x="{kx}" y="6" width="12" height="12" fill="{COLOURS[k % len(COLOURS)]}"/>'
            f'<text x="{kx + 16}" y="16" font-size="12">{escape(name)}</text>'
        )
    axis = (
        f'<line x1="{LEFT}" y1="{TOP + inner_h}" x2="{WIDTH - RIGHT}" y2="{TOP + inner_h}" '
        f'stroke="#999"/>'
        f'<text x="{LEFT - 6}" y="{TOP + 4}" text-anchor="end" font-size="11">'
        f"{escape(_short(top))}{escape(unit)}</text>"
        f'<line x1="{LEFT}" y1="{TOP}" x2="{WIDTH - RIGHT}" y2="{TOP}" stroke="#ddd" '
        f'stroke-dasharray="3,3"/>'
        f'<text x="{LEFT - 6}" y="{TOP + inner_h + 4}" text-anchor="end" font-size="11">0</text>'
    )
    return svg_document(
        css_class="column-chart",
        width=WIDTH,
        height=HEIGHT,
        title=title,
        body="".join(keys) + axis + "".join(shapes),
    )


@dataclass(frozen=True, slots=True)
class Bar:
    label: str  # left of the bar
    value: Decimal | int  # its length, on the chart's one scale
    text: str  # right of the bar (the figures)


BAR_CHART_WIDTH, BAR_ROW, BAR_LABEL_WIDTH = 640, 22, 190
LABEL_ROOM = 30  # what fits left of the bars at 12 px: 30 Latin letters, 15 Chinese


def _fitted(label: str) -> str:
    """``label`` cut with "…" where it would run out of the chart on the left (a Chinese
    character takes about two Latin letters' room)."""
    used = 0
    for index, char in enumerate(label):
        used += 2 if ord(char) > 0x2E80 else 1
        if used > LABEL_ROOM:
            return label[: max(index - 1, 1)] + "…"
    return label


def horizontal_bars_svg(bars: Sequence[Bar], *, title: str, css_class: str) -> SafeString:
    """A bar per row on one scale, its label on the left and its figures on the right."""
    if not bars:
        return format_html("<p>{}</p>", "—")
    inner = BAR_CHART_WIDTH - BAR_LABEL_WIDTH - 90
    top = max(max(Decimal(bar.value) for bar in bars), Decimal("0.01"))
    rows: list[str] = []
    for i, bar in enumerate(bars):
        y = 4 + i * BAR_ROW
        width = inner * float(max(Decimal(bar.value), Decimal(0)) / top)
        rows.append(
            f"<g><title>{escape(bar.label)}: {escape(bar.text)}</title>"
            f'<text x="{BAR_LABEL_WIDTH - 6}" y="{y + 14}" text-anchor="end" font-size="12">'
            f"{escape(_fitted(bar.label))}</text>"
            f'<rect x="{BAR_LABEL_WIDTH}" y="{y + 3}" width="{width:.1f}" height="14" '
            f'fill="{COLOURS[0]}"/>'
            f'<text x="{BAR_LABEL_WIDTH + width + 4:.1f}" y="{y + 14}" font-size="11">'
            f"{escape(bar.text)}</text></g>"
        )
    return svg_document(
        css_class=css_class,
        width=BAR_CHART_WIDTH,
        height=BAR_ROW * len(bars) + 8,
        title=title,
        body="".join(rows),
    )


def svg_document(*, css_class: str, width: int, height: int, title: str, body: str) -> SafeString:
    """An inline chart: ``body`` is SVG markup whose texts the caller escaped."""
    svg = (
        # Texts take the page's text colour (black by default, unreadable on the admin's
        # dark theme); shapes set their own fill.
        f'<svg class="{escape(css_class)}" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" fill="currentColor" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>{body}</svg>"
    )
    return mark_safe(svg)  # the title is escaped here, the body's texts by the caller


def _short(value: Decimal) -> str:
    """The axis label: whole units, thousands as "k" past 10,000."""
    whole = int(value)
    if whole >= 10_000:
        return f"{whole / 1000:,.0f}k"
    return f"{whole:,}"
