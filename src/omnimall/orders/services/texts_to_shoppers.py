"""Text messages (SMS) to the shopper's mobile at the moments they act on: the pick-up is
ready (with its code, which shoppers in China expect on their phone) and again before an
uncollected pick-up is cancelled, the chosen store cannot prepare the order (with the link
to choose another), the parcel has shipped (carrier and tracking number), and — when the
shop turns it on — an unpaid order's hold is about to end. Someone the shopper sends to
collect a pick-up gets the code too, when it is ready (``pickup_collector``).

Written in Chinese, the language of a mainland mobile, signed with the shop's Chinese
name in 【】 as carriers require, and sent through the outbox (retried; dead letters in the
back office) by ``core.sms``'s backend. Which moments send one is the setting
``ORDER_TEXT_MESSAGES`` (``ready_for_pickup,pickup_collector,pickup_reminder,``
``pickup_store_refused,shipped``;
empty: none). A
number that is not a mobile (a landline given at checkout) gets none.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext, gettext_noop

from omnimall.core import outbox
from omnimall.core.numbers import display_number
from omnimall.core.shop import shop_name
from omnimall.inventory.models import StockLocation
from omnimall.inventory.picking import mask_phone
from omnimall.members.domain import InvalidPhoneError, normalise_phone
from omnimall.orders.models import Order, OrderEventKind
from omnimall.orders.texts import text

from .timeline import add_event

MOMENTS = (
    "ready_for_pickup",
    "pickup_collector",
    "pickup_reminder",
    "pickup_store_refused",
    "shipped",
    "payment_reminder",
)
LANGUAGE = "zh-hans"


def _mobile(phone: str) -> str:
    """``phone`` as E.164 when it is a mobile; "" otherwise."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    if len(digits) != 11 or not digits.startswith("1"):
        return ""
    try:
        return normalise_phone(digits, region=settings.MEMBER_DEFAULT_REGION)
    except InvalidPhoneError:
        return ""


def _store_name(order: Order) -> str:
    """The pick-up store's Chinese name (its English one when it has none)."""
    names = StockLocation.objects.filter(pk=order.pickup_store_id or 0).values_list(
        "name_zh", "name_en"
    )
    return next((zh or en for zh, en in names), "")


def _text(moment: str, order: Order, extra: dict[str, Any]) -> str:
    number = display_number(order.number)
    if moment == "ready_for_pickup":
        return gettext(
            "Your order %(number)s is ready at %(store)s. Show pick-up code %(code)s at the "
            "counter by %(deadline)s."
        ) % {
            "number": number,
            "store": _store_name(order),
            "code": order.pickup_code,
            "deadline": extra.get("deadline", ""),
        }
    if moment == "pickup_collector":
        return gettext(
            "%(shopper)s asks you to collect order %(number)s at %(store)s. Show pick-up code "
            "%(code)s at the counter by %(deadline)s."
        ) % {
            "shopper": order.contact_name,
            "number": number,
            "store": _store_name(order),
            "code": order.pickup_code,
            "deadline": extra.get("deadline", ""),
        }
    if moment == "pickup_reminder":
        return gettext(
            "Your order %(number)s is still waiting at %(store)s. Collect it with pick-up code "
            "%(code)s by %(deadline)s, or it is cancelled and refunded."
        ) % {
            "number": number,
            "store": _store_name(order),
            "code": order.pickup_code,
            "deadline": extra.get("deadline", ""),
        }
    if moment == "pickup_store_refused":
        return gettext(
            "Sorry, %(store)s cannot prepare your order %(number)s. Choose another store, or "
            "cancel for a full refund: %(link)s"
        ) % {"number": number, "store": _store_name(order), "link": extra.get("link", "")}
    if moment == "payment_reminder":
        return gettext(
            "Your order %(number)s is not paid yet. We hold the items until %(deadline)s; "
            "unpaid, the order is then cancelled."
        ) % {"number": number, "deadline": extra.get("deadline", "")}
    return gettext(
        "Your order %(number)s has shipped with %(carrier)s, tracking number %(tracking)s."
    ) % {
        "number": number,
        "carrier": extra.get("carrier", ""),
        "tracking": extra.get("tracking", ""),
    }


def text_shopper(
    order: Order,
    *,
    moment: str,
    extra: dict[str, Any] | None = None,
    dedupe_suffix: str = "",
    phone: str = "",
) -> bool:
    """Queue the ``moment``'s text message to the order's mobile, or to ``phone`` (someone
    the shopper sent to collect it), in the caller's transaction; False when the setting
    leaves it out or there is no mobile."""
    if moment not in MOMENTS:
        raise ValueError(f"unknown order text message {moment!r}")
    if moment not in settings.ORDER_TEXT_MESSAGES:
        return False
    phone = _mobile(phone or order.phone)
    if not phone:
        return False
    with translation.override(LANGUAGE):
        body = f"【{shop_name(LANGUAGE)}】{_text(moment, order, extra or {})}"
    outbox.send_text(
        phone=phone,
        text=body,
        topic=f"order.{moment}",
        dedupe_key=f"order:{order.number}:{moment}:{dedupe_suffix}",
    )
    # On the timeline, for "did you get the code by text?": what was sent, and to which
    # number (masked, as on a slip: the back office's timeline is read by many).
    add_event(
        order,
        kind=OrderEventKind.TEXT,
        message=text(gettext_noop("text message sent to %(phone)s"), phone=mask_phone(phone)),
        data={"moment": moment, "text": body},
    )
    return True
