"""Stock writes. Every change of stock goes through a function exported here.

The rules every module keeps (ledger, conditional updates, lock order) are written out in
``stock``; the other modules build on its primitives.
"""

from .stock import (
    DEFAULT_HOLD,
    adjust_stock,
    commit_reservation,
    receive_stock,
    release_expired_reservations,
    release_reservation,
    reserve_stock,
    set_safety_stock,
)

__all__ = [
    "DEFAULT_HOLD",
    "adjust_stock",
    "commit_reservation",
    "receive_stock",
    "release_expired_reservations",
    "release_reservation",
    "reserve_stock",
    "set_safety_stock",
]
