"""The back office's charts: column heights and bar lengths on one scale, stacked parts, escaped
and fitted texts."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from omnimall.core.charts import (
    BOTTOM,
    HEIGHT,
    TOP,
    Bar,
    Column,
    horizontal_bars_svg,
    stacked_columns_svg,
)


def _heights(svg: str) -> list[float]:
    return [
        float(h)
        for h in re.findall(
            r'<rect x="[^"]+" y="[^"]+" width="[^"]+" height="([\d.]+)" fill="#', svg
        )
    ]


def test_parts_stack_on_one_scale_and_the_tallest_fills_the_plot():
    svg = stacked_columns_svg(
        [
            Column(label="11-01", parts=(Decimal(30), Decimal(10)), hover="a"),
            Column(label="11-02", parts=(Decimal(0), Decimal(20)), hover="b"),
        ],
        legend=["Delivery", "Pick-up"],
        title="Sales",
    )

    plot = HEIGHT - TOP - BOTTOM
    # legend keys are 12 high; the bars follow in column order, zero parts left out
    bars = [h for h in _heights(str(svg)) if h != 12]
    assert bars == [plot * 30 / 40, plot * 10 / 40, plot * 20 / 40]
    assert ">40<" in str(svg)  # the axis is labelled with the tallest total


def test_texts_are_escaped_and_an_empty_chart_is_a_dash():
    svg = str(
        stacked_columns_svg(
            [Column(label="<b>", parts=(Decimal(1),), hover='"&"')],
            legend=["<i>"],
            title="<script>",
        )
    )

    assert "<script>" not in svg
    assert "<b>" not in svg
    assert "<i>" not in svg
    assert "&lt;script&gt;" in svg
    assert str(stacked_columns_svg([], legend=[], title="x")) == "<p>—</p>"


def test_bars_share_one_scale_and_long_labels_are_cut_to_fit_with_the_whole_on_hover():
    long = "I chose the wrong item, size or colour"
    svg = str(
        horizontal_bars_svg(
            [Bar(long, 2, "2 (40 %)"), Bar("退款原因很长很长很长很长很长很长很长", 1, "1 (20 %)")],
            title="By reason",
            css_class="report-chart",
        )
    )

    widths = [float(w) for w in re.findall(r'<rect [^>]*width="([\d.]+)"', svg)]
    assert widths[0] == pytest.approx(2 * widths[1])
    assert f"<title>{long}: 2 (40 %)</title>" in svg
    labels = re.findall(r'text-anchor="end" font-size="12">([^<]*)</text>', svg)
    assert labels[0].endswith("…")
    assert labels[0] != long
    assert labels[1].endswith("…")
    assert len(labels[1]) <= 16
    assert str(horizontal_bars_svg([], title="x", css_class="c")) == "<p>—</p>"
