"""What the periodic sweeps over orders share: each order on its own, one failure logged
and the others still done."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

logger = logging.getLogger("omnimall.orders.services")


def remind_each(order_ids: Iterable[int], remind: Callable[[int], bool], *, which: str) -> int:
    """Call ``remind`` for each order (True: reminded); how many were reminded. ``which``
    names the orders in the log ("unpaid", "uncollected")."""
    reminded = 0
    for order_id in order_ids:
        try:
            if remind(order_id):
                reminded += 1
        except Exception:  # one order's bad data or lock timeout must not stop the others
            logger.exception("reminding of %s order %s failed", which, order_id)
    return reminded
