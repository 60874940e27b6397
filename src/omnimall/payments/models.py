"""Payments of orders through a gateway, kept as a ledger.

``Payment`` is one attempt to collect an order's total through one gateway, addressed by
our ``out_trade_no``; ``PaymentEntry`` rows are the ledger (captures and refunds), each
unique per gateway document so a repeated notification or refund reply posts once;
``Payment.amount_captured`` / ``amount_refunded`` are cached in the same transaction and
always equal the sum of their entries. ``NotificationLog`` keeps every notification
received, accepted or not, for staff. ``SandboxTrade`` / ``SandboxRefund`` are the
*gateway's* side of the built-in sandbox (it plays the bank), never read by the shop's
own payment logic except through the gateway protocol.

No card number is ever accepted, stored or logged: the shopper pays on the gateway's page.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _


class PaymentState(models.TextChoices):
    PENDING = "pending", _("awaiting payment")
    PAID = "paid", _("paid")
    FAILED = "failed", _("failed")
    CANCELLED = "cancelled", _("cancelled")


class Payment(models.Model):
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="payments")
    gateway = models.CharField(_("gateway"), max_length=30)
    out_trade_no = models.CharField(_("our trade number"), max_length=64, unique=True)
    trade_no = models.CharField(_("gateway trade number"), max_length=64, blank=True)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    state = models.CharField(
        _("state"), max_length=20, choices=PaymentState.choices, default=PaymentState.PENDING
    )
    amount_captured = models.DecimalField(
        _("captured"), max_digits=12, decimal_places=2, default=Decimal("0.00")
    )
    amount_refunded = models.DecimalField(
        _("refunded"), max_digits=12, decimal_places=2, default=Decimal("0.00")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    paid_at = models.DateTimeField(_("paid"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    amount__gt=0,
                    amount_captured__gte=0,
                    amount_refunded__gte=0,
                    amount_refunded__lte=models.F("amount_captured"),
                ),
                name="payment_amounts_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.out_trade_no


class EntryKind(models.TextChoices):
    CAPTURE = "capture", _("capture")
    REFUND = "refund", _("refund")


class PaymentEntry(models.Model):
    """One money movement on a payment; positive for captures, negative for refunds."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(_("kind"), max_length=20, choices=EntryKind.choices)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    # The gateway document this entry records (trade number, refund number): posting
    # the same document twice is refused by the database.
    document = models.CharField(_("gateway document"), max_length=80)
    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    actor_label = models.CharField(_("by"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("payment ledger entry")
        verbose_name_plural = _("payment ledger")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["payment", "kind", "document"], name="paymententry_document_uniq"
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(kind="capture", amount__gt=0) | models.Q(kind="refund", amount__lt=0)
                ),
                name="paymententry_sign_matches_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} ({self.document})"


class RefundState(models.TextChoices):
    REQUESTED = "requested", _("requested")
    SUCCEEDED = "succeeded", _("succeeded")
    FAILED = "failed", _("failed")


class Refund(models.Model):
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    refund_no = models.CharField(_("refund number"), max_length=64, unique=True)
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    state = models.CharField(
        _("state"), max_length=20, choices=RefundState.choices, default=RefundState.REQUESTED
    )
    failure = models.CharField(_("failure"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="refund_amount_pos")
        ]

    def __str__(self) -> str:
        return self.refund_no


class NotificationOutcome(models.TextChoices):
    ACCEPTED = "accepted", _("accepted")
    DUPLICATE = "duplicate", _("duplicate (already processed)")
    IGNORED = "ignored", _("ignored (no change)")
    REJECTED = "rejected", _("rejected")


class NotificationLog(models.Model):
    """Every asynchronous notification received; rejected ones are what staff look at."""

    gateway = models.CharField(_("gateway"), max_length=30)
    received_at = models.DateTimeField(_("received"), auto_now_add=True, db_index=True)
    outcome = models.CharField(_("outcome"), max_length=20, choices=NotificationOutcome.choices)
    reason = models.CharField(_("reason"), max_length=80, blank=True)
    out_trade_no = models.CharField(_("our trade number"), max_length=64, blank=True)
    trade_status = models.CharField(_("trade status"), max_length=40, blank=True)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    remote_addr = models.GenericIPAddressField(_("from"), null=True, blank=True)

    class Meta:
        verbose_name = _("payment notification")
        verbose_name_plural = _("payment notifications")
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"{self.gateway} {self.outcome} {self.out_trade_no}"


class SandboxTradeStatus(models.TextChoices):
    WAIT_BUYER_PAY = "WAIT_BUYER_PAY", "WAIT_BUYER_PAY"
    TRADE_SUCCESS = "TRADE_SUCCESS", "TRADE_SUCCESS"
    TRADE_CLOSED = "TRADE_CLOSED", "TRADE_CLOSED"


class SandboxTrade(models.Model):
    """The sandbox gateway's own record of a trade (the bank's books, not the shop's)."""

    out_trade_no = models.CharField(max_length=64, unique=True)
    trade_no = models.CharField(max_length=64, unique=True)
    app_id = models.CharField(max_length=40)
    subject = models.CharField(max_length=200, blank=True)
    total_amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, default="CNY")
    status = models.CharField(
        max_length=20, choices=SandboxTradeStatus.choices, default=SandboxTradeStatus.WAIT_BUYER_PAY
    )
    notify_url = models.CharField(max_length=500)
    return_url = models.CharField(max_length=500, blank=True)
    refunded_amount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"))
    created_at = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("sandbox trade")
        verbose_name_plural = _("sandbox gateway: trades")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.trade_no} {self.status}"


class SandboxRefund(models.Model):
    trade = models.ForeignKey(SandboxTrade, on_delete=models.CASCADE, related_name="refunds")
    out_request_no = models.CharField(max_length=64, unique=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("sandbox refund")
        verbose_name_plural = _("sandbox gateway: refunds")

    def __str__(self) -> str:
        return self.out_request_no
