"""Timeline texts with figures: stored in English with their template, shown translated.

The zh_Hans catalogue gets its entries for these templates later (translators update the
.po files), so the tests patch known entries into the loaded catalogue: a text shows in
Chinese only if its template went through gettext *and* its figures were put back in.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from unittest import mock

import pytest
from django.http import HttpResponse
from django.utils import translation
from django.utils.translation import trans_real

from omnimall.orders.models import Order, OrderEvent, OrderEventKind
from omnimall.orders.services import cancellation
from omnimall.orders.texts import event_text, text
from tests.orders.factories import make_ready_pickup, make_shipped_order

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/orders/order/"
ZH = {
    "shipped with %(carrier)s %(tracking)s": "已由 %(carrier)s 发货，运单号 %(tracking)s",
    "Refunded %(amount)s %(currency)s: %(reason)s. The order stays %(state)s.": (
        "已退款 %(amount)s %(currency)s：%(reason)s。订单仍为%(state)s。"
    ),
    "cancelled: %(reason)s": "已取消：%(reason)s",
    "not collected within %(days)s days": "%(days)s 天内未取货",
    "cancelled": "已取消",
}


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def zh_catalogue():
    """ZH in the loaded zh-hans catalogue for the test, gone after it."""
    with mock.patch.dict(trans_real.translation("zh-hans")._catalog._catalogs[0], ZH):
        yield


def _timeline(page: HttpResponse) -> list[str]:
    """The message column of the order page's timeline."""
    assert page.status_code == 200
    return re.findall(r'<td class="field-message_shown">\s*<p>(.*?)</p>', page.content.decode())


def _event(order: Order, **fields: object) -> OrderEvent:
    return OrderEvent.objects.create(order=order, kind=OrderEventKind.FULFILMENT, **fields)


def test_back_office_timeline_shows_a_text_with_figures_in_the_staff_language(
    admin_client, zh_catalogue
):
    order = make_shipped_order()  # shipped with SF Express SF100

    english = _timeline(admin_client.get(f"{CHANGELIST}{order.pk}/change/"))
    chinese = _timeline(
        admin_client.get(f"{CHANGELIST}{order.pk}/change/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    )

    assert "shipped with SF Express SF100" in english
    assert "已由 SF Express 发货，运单号 SF100" in chinese
    assert not [shown for shown in chinese if "shipped with" in shown or "%(" in shown]


def test_a_text_with_figures_is_stored_in_english_with_its_template_and_figures():
    order = make_shipped_order()

    event = OrderEvent.objects.get(order=order, message__startswith="shipped with")

    assert event.message == "shipped with SF Express SF100"  # API, audit, webhooks: as before
    assert event.message_text == {
        "template": "shipped with %(carrier)s %(tracking)s",
        "params": {"carrier": "SF Express", "tracking": "SF100"},
    }
    assert "message_text" not in event.data  # the event's facts stay as they were


def test_nested_texts_and_the_state_are_translated_too(settings, zh_catalogue):
    settings.TIME_ZONE = "Asia/Shanghai"
    order = make_ready_pickup()
    deadline = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
    Order.objects.filter(pk=order.pk).update(collect_by=deadline)
    with translation.override("zh-hans"):  # written in English whatever the writer's language
        cancellation.cancel_uncollected_pickups()
    order.refresh_from_db()
    refund = OrderEvent.objects.get(order=order, kind=OrderEventKind.REFUND)

    with translation.override("zh-hans"):
        shown = event_text(refund)

    assert refund.message == (
        f"Refunded {order.amount_refunded} CNY: cancelled: not collected by 2026-11-20 10:00."
        " The order stays cancelled."
    )
    assert shown == (
        f"已退款 {order.amount_refunded} CNY：已取消：未在 2026-11-20 10:00 前取货。"
        "订单仍为已取消。"
    )


def test_a_fixed_text_nested_in_another_is_translated_when_shown(zh_catalogue):
    order = make_shipped_order()
    event = _event(
        order,
        message="cancelled: cancelled",
        message_text=text("cancelled: %(reason)s", reason=text("cancelled")).stored(),
    )

    with translation.override("zh-hans"):
        assert event_text(event) == "已取消：已取消"


def test_what_someone_typed_is_shown_as_typed(zh_catalogue):
    order = make_shipped_order()
    event = _event(
        order,
        message="cancelled: cancelled",
        message_text=text("cancelled: %(reason)s", reason="cancelled").stored(),
    )

    with translation.override("zh-hans"):
        assert event_text(event) == "已取消：cancelled"  # a person's words are not a msgid


def test_an_event_written_before_templates_were_stored_shows_its_message(zh_catalogue):
    order = make_shipped_order()
    old = _event(order, message="shipped with ZTO 7731", data={"carrier": "ZTO"})

    with translation.override("zh-hans"):
        shown = event_text(old)

    assert old.message_text is None
    assert shown == "shipped with ZTO 7731"


@pytest.mark.parametrize(
    "stored",
    [
        {"template": "shipped with %(carrier)s %(tracking)s", "params": {"carrier": "SF"}},
        {"template": "shipped with %(carrier)s %(tracking)s", "params": ["SF", "SF1"]},
        {"template": "shipped with 100% %(carrier)s", "params": {"carrier": "SF"}},
        {"params": {"carrier": "SF"}},
        "shipped with %(carrier)s",
    ],
    ids=["missing-param", "params-not-a-dict", "stray-percent", "no-template", "not-a-dict"],
)
def test_a_template_that_does_not_fit_its_params_shows_the_stored_message(stored, zh_catalogue):
    order = make_shipped_order()
    event = _event(order, message="shipped with SF (as written)", message_text=stored)

    with translation.override("zh-hans"):
        assert event_text(event) == "shipped with SF (as written)"


def test_a_translation_that_does_not_fit_the_params_shows_the_stored_message(zh_catalogue):
    order = make_shipped_order()
    event = OrderEvent.objects.get(order=order, message__startswith="shipped with")
    broken = {"shipped with %(carrier)s %(tracking)s": "%(carrier)s %(waybill)s 已发货"}

    with (
        mock.patch.dict(trans_real.translation("zh-hans")._catalog._catalogs[0], broken),
        translation.override("zh-hans"),
    ):
        assert event_text(event) == "shipped with SF Express SF100"


def test_fixed_texts_are_still_translated_when_shown():
    order = make_shipped_order()
    captured = OrderEvent.objects.get(order=order, message="payment captured")

    with translation.override("zh-hans"):
        assert event_text(captured) == "已收款"  # in the shipped catalogue
