"""Every order email carries an HTML alternative with the same message, escaped."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.core import mail

from omnimall.core import outbox
from omnimall.core.models import OutboxMessage
from omnimall.orders.models import Order
from omnimall.orders.services import messages
from tests.orders.factories import make_ready_pickup

pytestmark = pytest.mark.django_db

EXTRA = {
    "placed": {},
    "payment_reminder": {"deadline": "14:35", "time_zone": "Asia/Shanghai"},
    "paid": {},
    "shipped": {
        "complete": True,
        "carrier": "SF Express",
        "tracking_number": "SF7788",
        "expected_from": "2026-12-02",
        "expected_to": "2026-12-05",
    },
    "ready_for_pickup": {"days": 7},
    "pickup_reminder": {"deadline": "2026-12-04 10:30", "time_zone": "Asia/Shanghai"},
    "pickup_kept": {"deadline": "2026-12-07 10:30", "time_zone": "Asia/Shanghai"},
    "pickup_store_changed": {},
    "pickup_store_refused": {"store_link": "https://shop.example.cn/orders/1/store/?token=t"},
    "refunded": {"amount": "12.30"},
    "cancelled": {"reason": "Not collected"},
    "invoice_issued": {
        "invoice_number": "26112700000042",
        "invoice": {
            "title": "北风贸易有限公司",
            "tax_id": "91110000600037341L",
            "amount": "59.90",
            "pdf_url": "https://invoices.example.cn/42.pdf",
        },
    },
}
# What each email must say besides the order's number and link.
SAYS = {
    "placed": ["Total / 合计"],
    "payment_reminder": ["until 14:35", "(Asia/Shanghai time)", "Total / 合计"],
    "paid": ["Your pick-up code / 自提码"],
    "shipped": ["SF Express", "SF7788", "Usually arrives between 2026-12-02 and 2026-12-05"],
    "ready_for_pickup": ["within 7 days", "1 Nanjing Road"],
    "pickup_reminder": ["2026-12-04 10:30", "(Asia/Shanghai time)", "1 Nanjing Road"],
    "pickup_kept": ["is kept for you", "2026-12-07 10:30", "(Asia/Shanghai time)"],
    "pickup_store_changed": ["will now be picked up at", "1 Nanjing Road", "10:00-22:00"],
    "pickup_store_refused": [
        "cannot prepare your order",
        "https://shop.example.cn/orders/1/store/?token=t",
    ],
    "refunded": ["12.30 CNY"],
    "cancelled": ["Not collected"],
    "invoice_issued": [
        "26112700000042",
        "北风贸易有限公司",
        "91110000600037341L",
        "https://invoices.example.cn/42.pdf",
    ],
}


def _html_of(topic: str) -> str:
    return OutboxMessage.objects.get(kind="email", topic=topic).payload["html"]


@pytest.mark.parametrize("template", messages.TEMPLATES)
def test_each_template_has_an_html_body_saying_what_the_text_says(settings, template):
    settings.OUTBOX_DELIVER_ON_COMMIT = False
    order = make_ready_pickup()
    OutboxMessage.objects.filter(kind="email").delete()

    messages.email_shopper(order, template=template, extra=EXTRA[template])

    html = _html_of(f"order.{template}")
    text = OutboxMessage.objects.get(kind="email", topic=f"order.{template}").payload["body"]
    assert html.startswith("<!doctype html>")
    assert messages.display_number(order.number) in html
    assert f'href="{messages.order_link(order)}"' in html
    for phrase in SAYS[template]:
        assert phrase in re.sub(r"<[^>]+>", "", html)  # "Total / <span lang=…>合计</span>"
        assert phrase in text
    if template in ("placed", "paid", "ready_for_pickup", "pickup_reminder", "pickup_kept"):
        for line in order.lines.all():
            assert line.product_name in html
            assert f"{line.line_total} CNY" in html
    if template in ("paid", "ready_for_pickup", "pickup_reminder", "pickup_kept"):
        assert order.pickup_code in html


HAN = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


class _UnmarkedChinese(HTMLParser):
    """The texts with Chinese characters that no element marks ``lang="zh-Hans"``."""

    VOID = frozenset({"br", "img", "meta", "link", "hr", "input"})

    def __init__(self) -> None:
        super().__init__()
        self.open: list[tuple[str, str | None]] = []  # (tag, its lang)
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in self.VOID:
            self.open.append((tag, dict(attrs).get("lang")))

    def handle_endtag(self, tag):
        if tag not in self.VOID and self.open:
            self.open.pop()

    def handle_data(self, data):
        if any(tag == "title" for tag, _ in self.open):
            return  # the subject, plain text: both languages in one line, as mail shows it
        inner = next((lang for _, lang in reversed(self.open) if lang), "")
        if HAN.search(data) and not inner.startswith("zh"):
            self.found.append(data.strip())


@pytest.mark.parametrize("template", messages.TEMPLATES)
def test_the_chinese_half_of_each_email_is_marked_as_chinese(settings, template):
    """Screen readers read each half in its own voice (WCAG 3.1.2, language of parts):
    the emails are written in English with Chinese beside it. What people typed or named
    (a product, an invoice's title) is in whatever language it was written in."""
    settings.OUTBOX_DELIVER_ON_COMMIT = False
    order = make_ready_pickup()
    OutboxMessage.objects.filter(kind="email").delete()
    extra = {**EXTRA[template]}
    if template == "shipped":
        extra["carrier_zh"] = "顺丰速运"
    messages.email_shopper(order, template=template, extra=extra)
    parser = _UnmarkedChinese()

    parser.feed(_html_of(f"order.{template}"))

    typed = {line.product_name for line in order.lines.all()} | {"北风贸易有限公司"}
    assert [text for text in parser.found if text not in typed] == []


def test_the_shoppers_own_words_are_escaped_in_html_and_kept_in_text(settings):
    settings.OUTBOX_DELIVER_ON_COMMIT = False
    order = make_ready_pickup()
    Order.objects.filter(pk=order.pk).update(contact_name="<img src=x onerror=alert(1)>")
    order.refresh_from_db()

    messages.email_shopper(order, template="refunded", extra={"amount": "1.00"})

    html = _html_of("order.refunded")
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    text = OutboxMessage.objects.get(topic="order.refunded").payload["body"]
    assert "Hello <img src=x onerror=alert(1)>," in text


def test_the_sent_email_is_multipart_text_and_html(settings):
    settings.OUTBOX_DELIVER_ON_COMMIT = False
    order = make_ready_pickup()
    mail.outbox.clear()

    outbox.deliver_due()

    ready = next(m for m in mail.outbox if "ready for pick-up" in m.subject)
    assert order.pickup_code in ready.body
    [(html, mime)] = ready.alternatives
    assert mime == "text/html"
    assert order.pickup_code in html
    assert "<title>Order" in html  # the subject, for clients that show the title
