"""Reads of the tills' data that the API, the services and the back office share.

``receipts``: one receipt, one return, a store by code (the API's answers); ``takings``:
the stores' takings by payment method per business day (the back-office report).
"""

from .receipts import (
    ReceiptLineView,
    ReceiptView,
    ReturnLineView,
    StoreRef,
    TillReturnView,
    get_receipt,
    get_store,
    get_till_return,
)

__all__ = [
    "ReceiptLineView",
    "ReceiptView",
    "ReturnLineView",
    "StoreRef",
    "TillReturnView",
    "get_receipt",
    "get_store",
    "get_till_return",
]
