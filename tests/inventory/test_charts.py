"""The stock charts' labels are in shop time, as every other time in the back office."""

from __future__ import annotations

from datetime import UTC, datetime

from omnimall.inventory.admin.charts import on_hand_line_svg


def test_on_hand_chart_labels_its_ends_in_shop_time(settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    points = [
        (datetime(2026, 11, 27, 16, 30, tzinfo=UTC), 5),
        (datetime(2026, 11, 28, 2, 0, tzinfo=UTC), 3),
    ]

    svg = str(on_hand_line_svg(points, title="on hand"))

    assert "2026-11-28 00:30" in svg  # 16:30 UTC is half past midnight in Shanghai
    assert "2026-11-28 10:00" in svg
    assert "16:30" not in svg
