"""The payments back office: read-only. The ledger changes only through the services
(notifications, status queries, refunds from the order's page), never by hand here.

Payments with their ledger entries and refunds; the notification log, whose *rejected*
rows are the staff queue (forged, tampered, wrong-amount or wrong-merchant calls); and
the sandbox gateway's own books, listed apart under "sandbox gateway".
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from omnimall.core.admin import ReadOnlyAdminMixin, local_time

from .models import (
    NotificationLog,
    NotificationOutcome,
    Payment,
    PaymentEntry,
    Refund,
    SandboxRefund,
    SandboxTrade,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from django.contrib.admin.filters import _ListFilterChoices
    from django.db.models import QuerySet
    from django.http import HttpRequest


class PaymentEntryInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = PaymentEntry
    fields = ("created_at", "kind", "amount", "document", "actor_label")
    readonly_fields = fields
    extra = 0
    can_delete = False


class RefundInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Refund
    fields = ("created_at", "refund_no", "amount", "state", "reason", "failure")
    readonly_fields = fields
    extra = 0
    can_delete = False


def _order_link(order: Any) -> str:
    try:
        url = reverse("admin:orders_order_change", args=[order.pk])
    except NoReverseMatch:
        return str(order.number)
    return format_html('<a href="{}">{}</a>', url, order.number)


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "out_trade_no",
        "order_number",
        "gateway",
        "amount",
        "currency",
        "state",
        "amount_captured",
        "amount_refunded",
        "created_at",
        "paid_at",
    )
    list_filter = ("state", "gateway", "created_at")
    list_select_related = ("order",)
    # Exact matches (``__exact``): ``=field`` compares UPPER(field), which no index serves,
    # so every search read the whole table. Trade and order numbers are copied, not typed.
    search_fields = ("out_trade_no__exact", "trade_no__exact", "order__number__exact")
    search_help_text = _("Exact trade number (ours or the gateway's) or order number.")
    readonly_fields = (
        "order_number",
        "gateway",
        "out_trade_no",
        "trade_no",
        "amount",
        "currency",
        "state",
        "amount_captured",
        "amount_refunded",
        "created_at",
        "paid_at",
        "state_changed_at",
    )
    fields = readonly_fields
    inlines = (PaymentEntryInline, RefundInline)
    show_full_result_count = False
    date_hierarchy = "created_at"

    @admin.display(description=_("order"), ordering="order__number")
    def order_number(self, payment: Payment) -> str:
        return _order_link(payment.order)

    @admin.display(description=_("state last changed"))
    def state_changed_at(self, payment: Payment) -> str:
        # ``updated_at`` moves when the state does (created, captured, failed, closed);
        # refunds leave it alone (they are in the refunds below), so "updated" misled.
        return local_time(payment.updated_at)


class OutcomeFilter(admin.SimpleListFilter):
    """Outcome, defaulting to *rejected*: the queue staff look at first."""

    title = _("outcome")
    parameter_name = "outcome"
    ALL = "all"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [*NotificationOutcome.choices, (self.ALL, _("all"))]

    def choices(self, changelist: Any) -> Iterator[_ListFilterChoices]:
        current = self.value() or NotificationOutcome.REJECTED
        for value, label in self.lookup_choices:
            yield {
                "selected": current == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value() or NotificationOutcome.REJECTED
        if value == self.ALL:
            return queryset
        return queryset.filter(outcome=value)


@admin.register(NotificationLog)
class NotificationLogAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "received_at",
        "gateway",
        "outcome",
        "reason",
        "out_trade_no",
        "trade_status",
        "remote_addr",
    )
    list_filter = (OutcomeFilter, "gateway", "received_at")
    search_fields = ("out_trade_no__exact", "reason")
    search_help_text = _("Exact trade number, or words of the reason.")
    fields = (
        "received_at",
        "gateway",
        "outcome",
        "reason",
        "out_trade_no",
        "trade_status",
        "remote_addr",
        "parameters",
    )
    readonly_fields = fields
    show_full_result_count = False
    date_hierarchy = "received_at"

    @admin.display(description=_("parameters (without the signature)"))
    def parameters(self, log: NotificationLog) -> str:
        text = json.dumps(log.params, ensure_ascii=False, indent=2, sort_keys=True)
        return format_html("<pre>{}</pre>", text)


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "refund_no",
        "payment_link",
        "amount",
        "state",
        "reason",
        "failure",
        "created_at",
    )
    list_filter = ("state", "created_at")
    list_select_related = ("payment",)
    search_fields = (
        "refund_no__exact",
        "payment__out_trade_no__exact",
        "payment__order__number__exact",
    )
    readonly_fields = (
        "payment_link",
        "refund_no",
        "amount",
        "reason",
        "state",
        "failure",
        "created_at",
    )
    fields = readonly_fields

    # ``Refund.payment`` has no translated name (its column read "PAYMENT" in Chinese).
    @admin.display(description=_("payment"), ordering="payment__out_trade_no")
    def payment_link(self, refund: Refund) -> str:
        url = reverse("admin:payments_payment_change", args=[refund.payment_id])
        return format_html('<a href="{}">{}</a>', url, refund.payment.out_trade_no)


@admin.register(SandboxTrade)
class SandboxTradeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "trade_no",
        "out_trade_no",
        "total_amount",
        "currency",
        "status",
        "refunded_amount",
        "created_at",
        "paid_at",
    )
    list_filter = ("status", "created_at")
    search_fields = ("trade_no__exact", "out_trade_no__exact")
    readonly_fields = (
        "trade_no",
        "out_trade_no",
        "app_id",
        "subject",
        "total_amount",
        "currency",
        "status",
        "refunded_amount",
        "notify_url",
        "return_url",
        "created_at",
        "paid_at",
    )
    fields = readonly_fields


@admin.register(SandboxRefund)
class SandboxRefundAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("out_request_no", "trade", "amount", "created_at")
    list_select_related = ("trade",)
    search_fields = ("out_request_no__exact", "trade__trade_no__exact")
    readonly_fields = ("trade", "out_request_no", "amount", "created_at")
    fields = readonly_fields
