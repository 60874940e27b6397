"""QR codes as SVG: the one way the shop draws them (a store's referral link, a member's
card, an order's pick-up code).

Always a full QR code, never a Micro QR: ``segno.make`` picks Micro QR for short
content (a 6-digit pick-up code, a 12-digit card number), which most till and
counter scanners, and phone cameras, cannot read.
"""

from __future__ import annotations

import io

import segno


def qr_svg(content: str, *, title: str = "") -> bytes:
    """An SVG QR code whose content is exactly ``content`` (a scanner in keyboard mode
    types it as it is), error correction M or better, with ``title`` as its tooltip."""
    buffer = io.BytesIO()
    extra = {"title": title} if title else {}
    segno.make_qr(content, error="m").save(buffer, kind="svg", scale=6, border=2, **extra)
    return buffer.getvalue()
