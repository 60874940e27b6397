"""An order number typed into a back-office search box, found on its unique index.

The order list and the invoice list both search by order number among other fields;
Django's search would OR ``UPPER(number) = …`` with ``LIKE '%…%'`` on the other fields and
read the whole table, so a term that is an order number is looked up exactly instead.
"""

from __future__ import annotations

ORDER_NUMBER_LENGTH = 12


def searched_order_number(search_term: str) -> str:
    """``"261127 482193"`` (as read out on the phone) → ``"261127482193"``; ``""`` when
    the term is not an order number."""
    squeezed = "".join(search_term.split()).replace("-", "")
    if squeezed.isdigit() and len(squeezed) == ORDER_NUMBER_LENGTH:
        return squeezed
    return ""
