"""Code 128 barcodes as SVG: the one way the shop draws them (a member's card, an order's
number on a packing slip).

Code 128 because every till and counter scanner reads it and it packs digits in pairs, so
a 12-digit number stays short enough to scan from a phone or a sheet of A4.
"""

from __future__ import annotations

import base64
import io

# Sizes in millimetres: bars wide enough for a laser scanner at arm's length, the digits
# printed under them for when the scanner fails.
_OPTIONS = {
    "module_width": 0.5,
    "module_height": 16.0,
    "quiet_zone": 4.0,
    "font_size": 8,
    "text_distance": 4.0,
}


def code128_svg(content: str) -> bytes:
    """An SVG Code 128 barcode of exactly ``content``, the digits written under it."""
    import barcode  # loaded by the few pages that draw one, not at every start-up
    from barcode.writer import SVGWriter

    buffer = io.BytesIO()
    barcode.get("code128", content, writer=SVGWriter()).write(buffer, options=_OPTIONS)
    return buffer.getvalue()


def code128_data_uri(content: str) -> str:
    """The same barcode as a ``data:`` URI for an ``<img>``: a page of many slips needs no
    request per barcode, and prints without waiting for images to load."""
    encoded = base64.b64encode(code128_svg(content)).decode("ascii")
    return f"data:image/svg+xml;base64,{encoded}"
