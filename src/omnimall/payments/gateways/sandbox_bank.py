"""The sandbox gateway's own pages and books: the shopper pays, declines or abandons;
the "bank" then notifies the shop and writes its settlement file.

Everything here is the gateway's side. The shop learns the outcome only from the
signed asynchronous notification queued in the outbox (repeated with back-off until the
shop answers ``success``), never from the redirect back.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from omnimall.core import clock, outbox
from omnimall.core.errors import NotFoundError
from omnimall.core.money import quantize
from omnimall.payments import domain
from omnimall.payments.models import SandboxRefund, SandboxTrade, SandboxTradeStatus

from .sandbox import notification_for

NOTIFY_TOPIC = "payment.notify"


class SandboxTradeNotFoundError(NotFoundError):
    code = "unknown_trade"
    message = "No such sandbox trade."


@dataclass(frozen=True, slots=True)
class TradePage:
    trade_no: str
    out_trade_no: str
    app_id: str
    seller_id: str
    subject: str
    total_amount: Decimal
    currency: str
    status: str
    return_url: str

    @property
    def open(self) -> bool:
        return self.status == SandboxTradeStatus.WAIT_BUYER_PAY


def _trade(trade_no: str) -> SandboxTrade:
    trade = SandboxTrade.objects.filter(trade_no=trade_no).first()
    if trade is None:
        raise SandboxTradeNotFoundError(trade_no=trade_no[:64])
    return trade


def get_trade_page(trade_no: str) -> TradePage:
    trade = _trade(trade_no)
    return TradePage(
        trade_no=trade.trade_no,
        out_trade_no=trade.out_trade_no,
        app_id=trade.app_id,
        seller_id=settings.SANDBOX_SELLER_ID,
        subject=trade.subject,
        total_amount=trade.total_amount,
        currency=trade.currency,
        status=trade.status,
        return_url=trade.return_url,
    )


def _back(return_url: str, outcome: str) -> str:
    """The shop's return page with ``payment=<outcome>``; "/" when there is none or it
    is not a same-site path or an http(s) address."""
    parts = urlsplit(return_url)
    if not return_url or (parts.scheme not in ("", "http", "https")) or return_url.startswith("//"):
        return "/"
    if not outcome:
        return return_url
    joiner = "&" if parts.query else "?"
    return f"{return_url}{joiner}payment={outcome}"


def _finish(trade_no: str, *, to: str, paid: bool) -> SandboxTrade:
    """Move an open trade to ``to`` once (a conditional update) and queue its signed
    notification; a repeat finds it finished and queues nothing new."""
    trade = _trade(trade_no)
    with transaction.atomic():
        changes: dict[str, object] = {"status": to}
        if paid:
            changes["paid_at"] = clock.now()
        moved = SandboxTrade.objects.filter(
            pk=trade.pk, status=SandboxTradeStatus.WAIT_BUYER_PAY
        ).update(**changes)
        if moved:
            outbox.enqueue_gateway_notification(
                url=trade.notify_url,
                params=notification_for(trade.out_trade_no, to),
                topic=NOTIFY_TOPIC,
                dedupe_key=f"sandbox:{trade.trade_no}:{to}",
            )
    trade.refresh_from_db()
    return trade


def pay_trade(trade_no: str) -> str:
    """The shopper pays: the trade succeeds once, the shop is notified; returns where
    the shopper goes next (the shop's return page)."""
    trade = _finish(trade_no, to=SandboxTradeStatus.TRADE_SUCCESS, paid=True)
    return _back(trade.return_url, "")


def decline_trade(trade_no: str) -> str:
    """The bank declines: the trade closes, the shop is notified (TRADE_CLOSED)."""
    trade = _finish(trade_no, to=SandboxTradeStatus.TRADE_CLOSED, paid=False)
    return _back(trade.return_url, "declined")


def abandon_trade(trade_no: str) -> str:
    """The shopper gives up: nothing changes; back to the shop."""
    return _back(_trade(trade_no).return_url, "abandoned")


# --- settlement file ----------------------------------------------------------------------


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = timezone.make_aware(datetime.combine(day, time.min))
    return start, timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))


def _iso(moment: datetime) -> str:
    return timezone.localtime(moment).isoformat(timespec="seconds")


def settlement_lines(day: date) -> Iterator[list[str]]:
    """The sandbox's settlement file for ``day`` (shop time zone), header first: every
    payment made and every refund taken that day (format: ``domain.SETTLEMENT_COLUMNS``)."""
    start, end = _day_bounds(day)
    yield list(domain.SETTLEMENT_COLUMNS)
    rows: list[tuple[datetime, list[str]]] = []
    trades = SandboxTrade.objects.filter(paid_at__gte=start, paid_at__lt=end)
    for trade in trades.order_by("paid_at", "pk"):
        if trade.paid_at is None:  # pragma: no cover - filtered on it
            continue
        rows.append(
            (
                trade.paid_at,
                [
                    trade.trade_no,
                    trade.out_trade_no,
                    "",
                    domain.PAYMENT,
                    f"{quantize(trade.total_amount):.2f}",
                    trade.currency,
                    _iso(trade.paid_at),
                ],
            )
        )
    refunds = SandboxRefund.objects.filter(created_at__gte=start, created_at__lt=end)
    for refund in refunds.select_related("trade").order_by("created_at", "pk"):
        trade = refund.trade
        rows.append(
            (
                refund.created_at,
                [
                    trade.trade_no,
                    trade.out_trade_no,
                    refund.out_request_no,
                    domain.REFUND,
                    f"-{quantize(refund.amount):.2f}",
                    trade.currency,
                    _iso(refund.created_at),
                ],
            )
        )
    rows.sort(key=lambda pair: pair[0])
    for _, line in rows:
        yield line
