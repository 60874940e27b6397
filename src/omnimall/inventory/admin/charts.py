"""Small inline SVG charts for the stock pages, drawn on the server (no script, no CDN)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString

from omnimall.core.charts import svg_document

LINE_WIDTH, LINE_HEIGHT, PAD = 640, 170, 34
BAR_WIDTH, BAR_ROW = 640, 22


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    on_hand: int
    reserved: int
    highlight: bool = False


def _y(value: int, top: int) -> float:
    span = max(top, 1)
    return LINE_HEIGHT - PAD - (LINE_HEIGHT - 2 * PAD) * value / span


def on_hand_line_svg(points: Sequence[tuple[datetime, int]], *, title: str) -> SafeString:
    """A step line of on-hand units over time; ``points`` in time order (at least one)."""
    if not points:
        return format_html("<p>{}</p>", "—")
    start, end = points[0][0].timestamp(), points[-1][0].timestamp()
    width = max(end - start, 1.0)
    top = max(value for _, value in points)
    inner = LINE_WIDTH - 2 * PAD

    def x(moment: datetime) -> float:
        return PAD + inner * (moment.timestamp() - start) / width

    path: list[str] = []
    previous_y: float | None = None
    for moment, value in points:
        px, py = x(moment), _y(value, top)
        if previous_y is None:
            path.append(f"M{px:.1f},{py:.1f}")
        else:
            path.append(f"L{px:.1f},{previous_y:.1f} L{px:.1f},{py:.1f}")
        previous_y = py
    # Labelled in shop time, as every other time in the back office.
    first_label = timezone.localtime(points[0][0]).strftime("%Y-%m-%d %H:%M")
    last_label = timezone.localtime(points[-1][0]).strftime("%Y-%m-%d %H:%M")
    body = (
        f'<line x1="{PAD}" y1="{LINE_HEIGHT - PAD}" x2="{LINE_WIDTH - PAD}" '
        f'y2="{LINE_HEIGHT - PAD}" stroke="#999"/>'
        f'<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{LINE_HEIGHT - PAD}" stroke="#999"/>'
        f'<text x="{PAD - 4}" y="{PAD + 4}" text-anchor="end" font-size="11">{top}</text>'
        f'<text x="{PAD - 4}" y="{LINE_HEIGHT - PAD + 4}" text-anchor="end" '
        f'font-size="11">0</text>'
        f'<text x="{PAD}" y="{LINE_HEIGHT - 10}" font-size="11">{escape(first_label)}</text>'
        f'<text x="{LINE_WIDTH - PAD}" y="{LINE_HEIGHT - 10}" text-anchor="end" '
        f'font-size="11">{escape(last_label)}</text>'
        f'<path d="{" ".join(path)}" fill="none" stroke="#417690" stroke-width="2"/>'
    )
    return svg_document(
        css_class="stock-chart", width=LINE_WIDTH, height=LINE_HEIGHT, title=title, body=body
    )


def stock_by_location_svg(bars: Sequence[Bar], *, title: str) -> SafeString:
    """Horizontal bars of on-hand units per location, the reserved part darker."""
    if not bars:
        return format_html("<p>{}</p>", "—")
    label_width = 170
    inner = BAR_WIDTH - label_width - 60
    top = max(max(bar.on_hand for bar in bars), 1)
    height = BAR_ROW * len(bars) + 8
    rows: list[str] = []
    for i, bar in enumerate(bars):
        y = 4 + i * BAR_ROW
        full = inner * bar.on_hand / top
        held = inner * min(bar.reserved, bar.on_hand) / top
        weight = ' font-weight="bold"' if bar.highlight else ""
        rows.append(
            f'<text x="{label_width - 6}" y="{y + 14}" text-anchor="end" font-size="12"'
            f"{weight}>{escape(bar.label)}</text>"
            f'<rect x="{label_width}" y="{y + 3}" width="{full:.1f}" height="14" '
            f'fill="#79aec8"/>'
            f'<rect x="{label_width}" y="{y + 3}" width="{held:.1f}" height="14" '
            f'fill="#417690"/>'
            f'<text x="{label_width + full + 4:.1f}" y="{y + 14}" font-size="11">'
            f"{bar.on_hand} ({bar.reserved})</text>"
        )
    return svg_document(
        css_class="stock-chart", width=BAR_WIDTH, height=height, title=title, body="".join(rows)
    )
