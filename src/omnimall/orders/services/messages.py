"""What the shopper and integrations hear about an order: emails and webhooks.

Both are written to the outbox (``core.outbox``) in the caller's transaction, so they go
out exactly when the change that caused them commits, and are retried until delivered.
Emails render ``orders/emails/<template>_subject.txt``, ``<template>.txt`` (the plain-text
body) and ``<template>.html`` (the same message laid out for mail clients that show HTML,
sent as its alternative); each is sent once per order and template (``dedupe_key``) and
noted on the timeline.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse

from omnimall.core import audit, clock, outbox
from omnimall.core.actors import Actor
from omnimall.core.errors import ValidationFailedError
from omnimall.core.numbers import display_number
from omnimall.orders.models import Order, OrderEvent, OrderEventKind, OrderLine

from .timeline import add_event, lock_order

TEMPLATES = (
    "placed",
    "payment_reminder",
    "paid",
    "shipped",
    "ready_for_pickup",
    "pickup_reminder",
    "pickup_kept",
    "pickup_store_changed",
    "pickup_store_refused",
    "refunded",
    "cancelled",
    "invoice_issued",
)


_PLACEHOLDER = "000000000000"


def order_link(order: Order) -> str:
    """The order page, reachable by a guest through the token."""
    number = order.number
    if number.isascii() and number.isalnum():  # as reverse() would write it
        template = _order_path(settings.ROOT_URLCONF, get_urlconf(), get_script_prefix())
        path = template.replace(_PLACEHOLDER, number)
    else:
        path = _reversed_order_path(number)
    return f"{settings.SITE_URL}{path}?token={order.guest_token}"


def store_change_link(order: Order) -> str:
    """The order's "change the pick-up store" page, reachable by a guest through the token."""
    try:
        path = reverse("account:order_store", args=[order.number])
    except NoReverseMatch:
        path = f"/orders/{order.number}/store/"
    return f"{settings.SITE_URL}{path}?token={order.guest_token}"


def _reversed_order_path(number: str) -> str:
    try:
        return reverse("account:order_detail", args=[number])
    except NoReverseMatch:
        return f"/account/orders/{number}/"


@functools.lru_cache(maxsize=8)
def _order_path(root_urlconf: str, urlconf: object, prefix: str) -> str:
    """The order page's path for ``_PLACEHOLDER``: reversed once per URL configuration (the
    arguments are only the cache key), not once per email."""
    del root_urlconf, urlconf, prefix
    return _reversed_order_path(_PLACEHOLDER)


def _lines(order: Order, lines: Sequence[OrderLine] | None) -> list[OrderLine]:
    return list(lines) if lines is not None else list(order.lines.all())


def email_shopper(
    order: Order,
    *,
    template: str,
    lines: Sequence[OrderLine] | None = None,
    dedupe_suffix: str = "",
    extra: dict[str, Any] | None = None,
    to: str = "",
) -> None:
    """Queue the ``template`` email to the order's address (or ``to``) and note it on the
    timeline.

    ``dedupe_suffix`` distinguishes repeated emails of one template (e.g. a second
    shipment); without it each template goes out once per order.
    """
    event = queue_email(
        order, template=template, lines=lines, dedupe_suffix=dedupe_suffix, extra=extra, to=to
    )
    if event is not None:
        event.save()


def queue_email(
    order: Order,
    *,
    template: str,
    lines: Sequence[OrderLine] | None = None,
    dedupe_suffix: str = "",
    extra: dict[str, Any] | None = None,
    pickup_store: object | None = None,
    to: str = "",
) -> OrderEvent | None:
    """``email_shopper`` without saving its timeline event: the unsaved event (the caller
    saves it, e.g. in one ``bulk_create`` with others), or None when there is no address.

    ``pickup_store``: the order's pick-up store when the caller has read it already (with
    ``name_en``, ``name_zh``, ``address``, ``opening_hours``, ``city`` as on the location;
    placement has it from its location read): saves the query for it."""
    if template not in TEMPLATES:
        raise ValueError(f"unknown order email {template!r}")
    address = to or order.email
    if not address:
        return None
    context = {
        "order": order,
        "number": display_number(order.number),
        "lines": _lines(order, lines),
        "link": order_link(order),
        "pickup_store": _pickup_store(order, pickup_store),
        **(extra or {}),
    }
    subject = " ".join(render_to_string(f"orders/emails/{template}_subject.txt", context).split())
    body = render_to_string(f"orders/emails/{template}.txt", context)
    # Autoescaped, unlike the text body: names and addresses are the shopper's own input.
    html = render_to_string(f"orders/emails/{template}.html", {**context, "subject": subject})
    key = f"order:{order.number}:{template}" + (f":{dedupe_suffix}" if dedupe_suffix else "")
    outbox.send_email(
        to=address,
        subject=subject,
        body=body,
        html=html,
        topic=f"order.{template}",
        dedupe_key=key,
    )
    remembered = {k: v for k, v in (extra or {}).items() if isinstance(v, str | int | bool)}
    return OrderEvent(
        order=order,
        kind=OrderEventKind.EMAIL,
        message=subject,
        data={"template": template, **remembered},
        actor_label="system",
    )


def _pickup_store(order: Order, known: object | None) -> object | None:
    if not order.pickup_store_id:
        return None
    if known is not None and getattr(known, "location_id", None) == order.pickup_store_id:
        return known
    return order.pickup_store


def order_payload(order: Order, lines: Sequence[OrderLine] | None = None) -> dict[str, Any]:
    return {
        "number": order.number,
        "state": order.state,
        "total": str(order.total),
        "currency": order.currency,
        "delivery_method": order.delivery_method,
        "amount_paid": str(order.amount_paid),
        "amount_refunded": str(order.amount_refunded),
        "points_used": order.points_used,
        "points_value": str(order.points_value),
        "points_earned": order.points_earned,
        "note": order.shopper_note,  # the shopper's note to the shop, given at checkout
        "cancel_reason": order.cancel_reason,  # why it was cancelled; empty otherwise
        "lines": [
            {
                "sku": line.sku_code,
                "product": line.product_name,
                "quantity": line.quantity,
                "unit_price": str(line.unit_price),
                "line_total": str(line.line_total),
            }
            for line in _lines(order, lines)
        ],
    }


def publish_order_event(
    order: Order,
    *,
    topic: str,
    lines: Sequence[OrderLine] | None = None,
    n: str = "",
    extra: dict[str, Any] | None = None,
) -> None:
    """A webhook ``topic`` (e.g. ``order.paid``) to every subscribed integration;
    ``extra``: what this topic adds to the order's payload.

    ``n`` tells events of one topic apart (default: the order's last change time, so a
    second shipment is its own event while a retry of one change is not).
    """
    if not n:
        stamp = order.updated_at.timestamp() if order.updated_at else 0.0
        n = f"{order.state}:{stamp:.6f}"
    outbox.publish_webhook_event(
        topic=topic,
        data={**order_payload(order, lines), **(extra or {})},
        dedupe_key=f"order:{order.number}:{topic}:{n}",
    )


def add_staff_note(*, order_id: int, text: str, actor: Actor) -> None:
    """A staff note on the order's timeline (never shown to the shopper), audited."""
    text = (text or "").strip()[:2000]
    if not text:
        raise ValidationFailedError("A note needs some text.", field="text")
    with transaction.atomic():
        order = lock_order(order_id)
        add_event(order, kind=OrderEventKind.NOTE, message=text, actor=actor)
        audit.record(actor=actor, action="order.note", subject=order, reason=text[:500])


def resend_last_email(*, order_id: int, actor: Actor) -> str:
    """Send the order's last email again (e.g. the shopper lost it); its template."""
    with transaction.atomic():
        order = lock_order(order_id)
        last = (
            order.events.filter(kind=OrderEventKind.EMAIL)
            .exclude(data__template=None)
            .order_by("-created_at", "-pk")
            .first()
        )
        template = str((last.data or {}).get("template", "")) if last else ""
        if template not in TEMPLATES:
            raise ValidationFailedError("This order has no email to send again.")
        extra: dict[str, Any] = {"days": settings.PICKUP_UNCOLLECTED_DAYS, "complete": True}
        extra.update(
            {k: v for k, v in (last.data or {}).items() if k != "template"} if last else {}
        )
        email_shopper(
            order,
            template=template,
            dedupe_suffix=f"resent-{clock.now():%Y%m%d%H%M%S%f}",
            extra=extra,
        )
        audit.record(actor=actor, action="order.email_resent", subject=order, reason=template)
    return template
