"""The built-in sandbox gateway: it plays a bank or Alipay inside the demo and the tests.

Its books are ``SandboxTrade`` / ``SandboxRefund`` (the bank's side, never the shop's).
It signs its notifications RSA2 with the private key at ``settings.SANDBOX_KEY_FILE``
(created on first use, mode 0600) and the shop verifies them with the public key derived
from that file. A real gateway is configured the other way round: the shop holds only
the gateway's *public* key (from the provider's console), never the gateway's private key.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone

from omnimall.core import clock, sql
from omnimall.core.money import quantize
from omnimall.payments import domain
from omnimall.payments.errors import GatewayError
from omnimall.payments.models import SandboxRefund, SandboxTrade, SandboxTradeStatus

from . import rsa2
from .base import RefundReply, StartedTrade, TradeStatus

CODE = "sandbox"
PAID = (SandboxTradeStatus.TRADE_SUCCESS,)
_PLACEHOLDER = "0" * 28


@functools.lru_cache(maxsize=8)
def _pay_path_template(root_urlconf: str, urlconf: object, prefix: str) -> str:
    """The sandbox pay page's path with ``{trade_no}``: reversed once per URL
    configuration (the arguments are only the cache key), not once per checkout."""
    del root_urlconf, urlconf, prefix
    return reverse("payments:sandbox_pay", args=[_PLACEHOLDER]).replace(_PLACEHOLDER, "{trade_no}")


def pay_path(trade_no: str) -> str:
    """``reverse("payments:sandbox_pay", args=[trade_no])`` for a trade number of
    letters and digits (the sandbox's own are digits); anything else is reversed."""
    if not trade_no.isalnum() or not trade_no.isascii():
        return reverse("payments:sandbox_pay", args=[trade_no])
    template = _pay_path_template(settings.ROOT_URLCONF, get_urlconf(), get_script_prefix())
    return template.replace("{trade_no}", trade_no)


def _key_path() -> Path:
    return Path(settings.SANDBOX_KEY_FILE)


def sign(params: Mapping[str, str]) -> str:
    """The sandbox's RSA2 signature of ``params`` (sorted ``k=v`` without sign/sign_type)."""
    return rsa2.sign(params, rsa2.load_private_key(_key_path()))


def verify(params: Mapping[str, str]) -> bool:
    return rsa2.verify(params, rsa2.load_public_key(_key_path()))


def gateway_time(moment: datetime | None = None) -> str:
    """A time as Alipay writes it: ``yyyy-MM-dd HH:mm:ss`` in the shop's time zone."""
    return timezone.localtime(moment or clock.now()).strftime("%Y-%m-%d %H:%M:%S")


def new_trade_no() -> str:
    """Like Alipay's: the date, a channel code and random digits (28 characters)."""
    return f"{timezone.localdate():%Y%m%d}2200{secrets.randbelow(10**16):016d}"


def notification_for(out_trade_no: str, trade_status: str = "TRADE_SUCCESS") -> dict[str, str]:
    """A complete signed notification for the trade, as the sandbox would POST it."""
    return notification_of(SandboxTrade.objects.get(out_trade_no=out_trade_no), trade_status)


def notification_of(trade: SandboxTrade, trade_status: str = "TRADE_SUCCESS") -> dict[str, str]:
    """``notification_for`` a trade already read from the sandbox's books."""
    params = {
        "notify_time": gateway_time(),
        "notify_type": "trade_status_sync",
        "notify_id": secrets.token_hex(16),
        "app_id": settings.SANDBOX_APP_ID,
        "seller_id": settings.SANDBOX_SELLER_ID,
        "out_trade_no": trade.out_trade_no,
        "trade_no": trade.trade_no,
        "total_amount": f"{quantize(trade.total_amount):.2f}",
        "trans_currency": trade.currency,
        "subject": trade.subject,
        "trade_status": trade_status,
        "gmt_create": gateway_time(trade.created_at),
        "charset": "utf-8",
        "version": "1.0",
        "sign_type": "RSA2",
    }
    if trade.paid_at is not None and trade_status in domain.PAID_STATUSES:
        params["gmt_payment"] = gateway_time(trade.paid_at)
    params = {key: value for key, value in params.items() if value != ""}
    params["sign"] = sign(params)
    return params


class SandboxGateway:
    """``Gateway`` for the sandbox: the bank's books are rows in this database."""

    code = CODE

    def start_payment(
        self,
        *,
        out_trade_no: str,
        amount: Decimal,
        currency: str,
        subject: str,
        notify_url: str,
        return_url: str,
    ) -> StartedTrade:
        trade = SandboxTrade(
            out_trade_no=out_trade_no,
            trade_no=new_trade_no(),
            app_id=settings.SANDBOX_APP_ID,
            subject=subject[:200],
            total_amount=amount,
            currency=currency,
            notify_url=notify_url[:500],
            return_url=return_url[:500],
        )
        sql.insert([trade])  # hot path (every checkout): no queryset to compile
        return StartedTrade(payment_url=pay_path(trade.trade_no), trade_no=trade.trade_no)

    def merchant_params(self) -> Mapping[str, str]:
        return {"app_id": settings.SANDBOX_APP_ID, "seller_id": settings.SANDBOX_SELLER_ID}

    def verify_notification(self, params: Mapping[str, str]) -> bool:
        try:
            return verify(params)
        except Exception:  # a verifier never raises: an unreadable one is a bad one
            return False

    def query_status(self, *, out_trade_no: str) -> TradeStatus:
        trade = SandboxTrade.objects.filter(out_trade_no=out_trade_no).first()
        if trade is None:
            return TradeStatus(out_trade_no=out_trade_no, found=False)
        return TradeStatus(
            out_trade_no=out_trade_no,
            found=True,
            trade_status=trade.status,
            trade_no=trade.trade_no,
            total_amount=trade.total_amount,
            currency=trade.currency,
            paid_at=trade.paid_at,
        )

    def refund(
        self, *, out_trade_no: str, trade_no: str, refund_no: str, amount: Decimal, reason: str
    ) -> RefundReply:
        with transaction.atomic():
            trade = (
                SandboxTrade.objects.select_for_update()
                .filter(out_trade_no=out_trade_no, trade_no=trade_no)
                .first()
            )
            if trade is None:
                raise GatewayError("TRADE_NOT_EXIST")
            earlier = SandboxRefund.objects.filter(out_request_no=refund_no).first()
            if earlier is not None:  # Alipay answers a repeated out_request_no the same
                if earlier.trade_id != trade.pk or earlier.amount != amount:
                    raise GatewayError("REFUND_REQUEST_NO_REUSED")
                return RefundReply(refund_no=refund_no, amount=amount, trade_no=trade_no)
            if trade.status not in PAID:
                raise GatewayError("TRADE_STATUS_ERROR")
            matched = SandboxTrade.objects.filter(
                pk=trade.pk, refunded_amount__lte=F("total_amount") - amount
            ).update(refunded_amount=F("refunded_amount") + amount)
            if not matched:
                raise GatewayError("REFUND_AMT_NOT_EQUAL_TOTAL")
            try:
                with transaction.atomic():
                    SandboxRefund.objects.create(
                        trade=trade, out_request_no=refund_no, amount=amount
                    )
            except IntegrityError as exc:
                raise GatewayError("REFUND_REQUEST_NO_REUSED") from exc
        return RefundReply(refund_no=refund_no, amount=amount, trade_no=trade_no)

    def close(self, *, out_trade_no: str) -> bool:
        SandboxTrade.objects.filter(
            out_trade_no=out_trade_no, status=SandboxTradeStatus.WAIT_BUYER_PAY
        ).update(status=SandboxTradeStatus.TRADE_CLOSED)
        status = (
            SandboxTrade.objects.filter(out_trade_no=out_trade_no)
            .values_list("status", flat=True)
            .first()
        )
        return status not in PAID
