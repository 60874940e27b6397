"""Stock writes. Every change of stock goes through a function exported here.

The rules every module keeps (ledger, conditional updates, lock order) are written out in
``stock``; the other modules build on its primitives: ``baskets`` (``reserve_basket``) and
``transfers`` (import the module: ``from omnimall.inventory.services import transfers``).
"""

from .baskets import reserve_basket
from .stock import (
    DEFAULT_HOLD,
    adjust_stock,
    commit_reservation,
    extend_holds,
    receive_stock,
    release_expired_reservations,
    release_reservation,
    reserve_stock,
    set_channel_safety_stock,
    set_safety_stock,
)
from .till import TillSale, sell_lines_at_store

__all__ = [
    "DEFAULT_HOLD",
    "TillSale",
    "adjust_stock",
    "commit_reservation",
    "extend_holds",
    "receive_stock",
    "release_expired_reservations",
    "release_reservation",
    "reserve_basket",
    "reserve_stock",
    "sell_lines_at_store",
    "set_channel_safety_stock",
    "set_safety_stock",
]
