"""Payment services: start, notifications, status queries, closing, refunds.

``from omnimall.payments import services as payments`` gives the contract's functions;
each lives in a module named by its role.
"""

from .notifications import NotificationResult, record_notification
from .payments import StartedPayment, capture_from_query, close_payment, start_payment
from .refunds import RefundResult, refund_payment

__all__ = [
    "NotificationResult",
    "RefundResult",
    "StartedPayment",
    "capture_from_query",
    "close_payment",
    "record_notification",
    "refund_payment",
    "start_payment",
]
