"""The gateway protocol: what the shop asks of a bank or Alipay-style payment gateway.

A gateway implementation talks to one provider. The shop never sees a card number: it
sends the shopper to ``payment_url`` (the gateway's page) and learns the result from a
signed asynchronous notification (``verify_notification``) or by asking
(``query_status``). The redirect back to the shop is never proof of payment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class StartedTrade:
    """The gateway's answer to a new payment: where to send the shopper.

    ``trade_no`` is the gateway's trade number when it is known at once ("" when it only
    comes with the notification, as with Alipay's page pay)."""

    payment_url: str
    trade_no: str = ""


@dataclass(frozen=True, slots=True)
class TradeStatus:
    """What the gateway says about a trade when asked (``query_status``)."""

    out_trade_no: str
    found: bool
    trade_status: str = ""  # WAIT_BUYER_PAY, TRADE_SUCCESS, TRADE_FINISHED, TRADE_CLOSED
    trade_no: str = ""
    total_amount: Decimal | None = None
    currency: str = "CNY"
    paid_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class RefundReply:
    """A refund the gateway accepted (``refund_no`` is ours, Alipay's out_request_no)."""

    refund_no: str
    amount: Decimal
    trade_no: str


@runtime_checkable
class Gateway(Protocol):
    """One payment provider. ``refund`` raises ``payments.errors.GatewayError`` on
    refusal or failure; the others answer with values."""

    code: str

    def start_payment(
        self,
        *,
        out_trade_no: str,
        amount: Decimal,
        currency: str,
        subject: str,
        notify_url: str,
        return_url: str,
    ) -> StartedTrade: ...

    def merchant_params(self) -> Mapping[str, str]:
        """Parameters a genuine notification carries unchanged (app_id, seller_id)."""
        ...

    def verify_notification(self, params: Mapping[str, str]) -> bool:
        """Whether the notification's signature is the gateway's (never raises)."""
        ...

    def query_status(self, *, out_trade_no: str) -> TradeStatus: ...

    def refund(
        self, *, out_trade_no: str, trade_no: str, refund_no: str, amount: Decimal, reason: str
    ) -> RefundReply: ...

    def close(self, *, out_trade_no: str) -> bool:
        """Close an unpaid trade: True when it is (or already was) closed or unknown,
        False when the gateway says it is paid."""
        ...
