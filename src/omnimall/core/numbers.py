"""How the shop shows an order number to people: ``261127482193`` → ``261127 482193``.

Order numbers are 12 digits (``orders.domain``); grouped 6 + 6 they are easier to read
out at a till or on the phone. In core because inventory (packing slips) shows them too,
and inventory cannot import orders, which depends on it.
"""

from __future__ import annotations


def display_number(number: str) -> str:
    """Twelve digits grouped 6 + 6; anything else as it is."""
    return f"{number[:6]} {number[6:]}" if len(number) == 12 else number
