"""Code 128 barcodes: what a scanner reads off the drawing is the content, unchanged."""

from __future__ import annotations

import base64
import re

import pytest
from barcode.charsets import code128

from omnimall.core.barcodes import code128_data_uri, code128_svg

MODULE_MM = 0.5


def scanned(svg: bytes) -> str:
    """Read the bars back as a scanner would (set C: two digits a symbol)."""
    text = svg.decode()
    bars = [
        (float(x), float(width))
        for x, width in re.findall(r'<rect x="([\d.]+)mm" y="[\d.]+mm" width="([\d.]+)mm"', text)
    ]
    start = bars[0][0]
    end = bars[-1][0] + bars[-1][1]
    modules = ["0"] * round((end - start) / MODULE_MM)
    for x, width in bars:
        first = round((x - start) / MODULE_MM)
        for i in range(round(width / MODULE_MM)):
            modules[first + i] = "1"
    symbols = "".join(modules)
    values = [code128.CODES.index(symbols[i : i + 11]) for i in range(0, len(symbols) - 13, 11)]
    start_code, *data, check = values
    assert start_code == code128.START_CODES["C"]
    assert check == (start_code + sum(i * v for i, v in enumerate(data, 1))) % 103
    return "".join(f"{v:02d}" for v in data)


@pytest.mark.parametrize("content", ["261127482193", "000000000000", "123456789012"])
def test_code128_svg_encodes_the_number_as_written_when_drawn(content):
    svg = code128_svg(content)

    assert scanned(svg) == content
    assert f">{content}</text>" in svg.decode()


def test_code128_data_uri_holds_the_same_svg_when_embedded():
    uri = code128_data_uri("261127482193")

    prefix, _, encoded = uri.partition(",")
    assert prefix == "data:image/svg+xml;base64"
    assert base64.b64decode(encoded) == code128_svg("261127482193")
