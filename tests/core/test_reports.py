"""The reports' shared CSV cell: text people typed never runs as a spreadsheet formula."""

from __future__ import annotations

import pytest

from omnimall.core.reports import csv_cell


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+86 138", "'+86 138"),
        ("-cmd", "'-cmd"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("-12.50", "-12.50"),  # a number stays a number
        ("李雷", "李雷"),
        ("sh-jingan", "sh-jingan"),
        (42, "42"),
    ],
)
def test_a_cell_that_would_be_a_formula_is_written_as_text(value, written):
    assert csv_cell(value) == written
