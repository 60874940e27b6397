"""Till receipts and till returns, as the stores' POS systems send them.

A receipt is applied once per (store, number): its lines become ``sale`` movements in
that store's stock ledger, its total a purchase on the member, its points an earn (and,
if the shopper paid with points, a spend) in the members' points ledger.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ReceiptSource(models.TextChoices):
    API = "api", _("till, live")
    BATCH = "batch", _("end-of-day batch")
    FILE = "file", _("file import")


class PaymentMethod(models.TextChoices):
    """The names staff read for ``domain.PAYMENT_METHODS`` (the codes a receipt's payments
    are stored with); tests/pos check the two lists are the same."""

    CASH = "cash", _("cash")
    CARD = "card", _("bank card")
    WECHAT = "wechat", _("WeChat Pay")
    ALIPAY = "alipay", _("Alipay")
    DIGITAL_RMB = "digital_rmb", _("digital RMB (e-CNY)")
    POINTS = "points", _("points")
    OTHER = "other", _("other")


class ReceiptState(models.TextChoices):
    APPLIED = "applied", _("applied")
    # Applied, but something needs staff: points no longer available, stock short, …
    FLAGGED = "flagged", _("needs attention")


class Receipt(models.Model):
    store = models.ForeignKey(
        "inventory.StockLocation",
        verbose_name=_("store"),
        on_delete=models.PROTECT,
        related_name="receipts",
    )
    number = models.CharField(_("receipt number"), max_length=64)
    occurred_at = models.DateTimeField(_("time"), db_index=True)
    member = models.ForeignKey(
        "members.Member",
        verbose_name=_("member"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="receipts",
    )
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    total = models.DecimalField(_("total"), max_digits=12, decimal_places=2)
    discount_total = models.DecimalField(_("discounts"), max_digits=12, decimal_places=2, default=0)
    payments = models.JSONField(_("payments"), default=list, blank=True)
    points_spent = models.PositiveIntegerField(_("points spent"), default=0)
    points_earned = models.PositiveIntegerField(_("points earned"), default=0)
    state = models.CharField(
        _("state"), max_length=10, choices=ReceiptState.choices, default=ReceiptState.APPLIED
    )
    # [{"code": "points_unavailable", "message": "…", ...}] for staff.
    flags = models.JSONField(_("flags"), default=list, blank=True)
    source = models.CharField(_("source"), max_length=10, choices=ReceiptSource.choices)
    payload_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(pgettext_lazy("till", "received"), auto_now_add=True)

    class Meta:
        verbose_name = _("till receipt")
        verbose_name_plural = _("till receipts")
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["store", "number"], name="receipt_store_number_uniq"),
        ]
        indexes = [
            models.Index(
                fields=["state"], condition=Q(state="flagged"), name="receipt_flagged_idx"
            ),
            models.Index(fields=["member", "-occurred_at"], name="receipt_member_when_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.number}"


class ReceiptLine(models.Model):
    receipt = models.ForeignKey(Receipt, on_delete=models.CASCADE, related_name="lines")
    line_no = models.PositiveSmallIntegerField(_("line"))
    sku = models.ForeignKey("catalog.Sku", verbose_name=_("SKU"), on_delete=models.PROTECT)
    sku_code = models.CharField(_("SKU code"), max_length=64)
    quantity = models.PositiveIntegerField(_("quantity"))
    unit_price = models.DecimalField(_("unit price"), max_digits=12, decimal_places=2)
    discount = models.DecimalField(_("discount"), max_digits=12, decimal_places=2, default=0)
    line_total = models.DecimalField(_("line total"), max_digits=12, decimal_places=2)
    points_earned = models.PositiveIntegerField(_("points earned"), default=0)
    quantity_returned = models.PositiveIntegerField(_("returned"), default=0)

    class Meta:
        verbose_name = _("receipt line")
        verbose_name_plural = _("receipt lines")
        ordering = ["receipt", "line_no"]
        constraints = [
            models.UniqueConstraint(fields=["receipt", "line_no"], name="receiptline_no_uniq"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="receiptline_quantity_gt_0"),
            models.CheckConstraint(
                condition=Q(quantity_returned__lte=F("quantity")),
                name="receiptline_returned_lte_quantity",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sku_code} × {self.quantity}"


class TillReturn(models.Model):
    """Goods brought back to a till: against an original receipt, or without one when
    staff decide so (``authorised_by`` then says who)."""

    store = models.ForeignKey(
        "inventory.StockLocation",
        verbose_name=_("store"),
        on_delete=models.PROTECT,
        related_name="till_returns",
    )
    number = models.CharField(_("return number"), max_length=64)
    receipt = models.ForeignKey(
        Receipt,
        verbose_name=_("original receipt"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="returns",
    )
    member = models.ForeignKey(
        "members.Member",
        verbose_name=_("member"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="till_returns",
    )
    occurred_at = models.DateTimeField(_("time"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    authorised_by = models.CharField(_("authorised by"), max_length=120, blank=True)
    refund_total = models.DecimalField(_("refunded"), max_digits=12, decimal_places=2)
    # How the refund was paid out; empty: not known (a return recorded before the field,
    # or one the till did not say for and whose receipt was paid in more than one way).
    refund_method = models.CharField(
        _("refunded by"), max_length=20, choices=PaymentMethod.choices, blank=True
    )
    points_reversed = models.PositiveIntegerField(_("points reversed"), default=0)
    points_restored = models.PositiveIntegerField(_("points restored"), default=0)
    flags = models.JSONField(_("flags"), default=list, blank=True)
    payload_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(pgettext_lazy("till", "received"), auto_now_add=True)

    class Meta:
        verbose_name = _("till return")
        verbose_name_plural = _("till returns")
        ordering = ["-occurred_at", "-id"]
        # The list's order and the takings report's period (refunds per day).
        indexes = [models.Index(fields=["occurred_at"], name="tillreturn_when_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["store", "number"], name="tillreturn_store_number_uniq"
            ),
        ]

    def __str__(self) -> str:
        return self.number


class TillReturnLine(models.Model):
    till_return = models.ForeignKey(TillReturn, on_delete=models.CASCADE, related_name="lines")
    receipt_line = models.ForeignKey(
        ReceiptLine, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    sku = models.ForeignKey("catalog.Sku", verbose_name=_("SKU"), on_delete=models.PROTECT)
    quantity = models.PositiveIntegerField(_("quantity"))
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)

    class Meta:
        verbose_name = _("till return line")
        verbose_name_plural = _("till return lines")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="tillreturnline_qty_gt_0"),
        ]

    def __str__(self) -> str:
        return f"{self.sku_id} × {self.quantity}"
