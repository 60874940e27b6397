"""The URLs checkout hands to the payment gateway: where to notify, where to send the
shopper back. Absolute, from ``SITE_URL`` or the request's own host."""

from __future__ import annotations

import functools

from django.conf import settings
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse

NOTIFY_PATH = "/payments/notify/sandbox/"
_PLACEHOLDER = "000000000000"


def notify_url(base: str) -> str:
    """Where the gateway POSTs its asynchronous notifications."""
    return base.rstrip("/") + NOTIFY_PATH


def order_path_template() -> str:
    """The order page's path with ``{number}`` (placement fills it in)."""
    return _order_path_template(settings.ROOT_URLCONF, get_urlconf(), get_script_prefix())


@functools.lru_cache(maxsize=8)
def _order_path_template(root_urlconf: str, urlconf: object, prefix: str) -> str:
    """Reversed once per URL configuration (the arguments are only the cache key), not
    once per checkout."""
    del root_urlconf, urlconf, prefix
    try:
        path = reverse("account:order_detail", args=[_PLACEHOLDER])
    except NoReverseMatch:
        path = f"/orders/{_PLACEHOLDER}/"
    return path.replace(_PLACEHOLDER, "{number}")


def order_return_url(base: str) -> str:
    """The gateway's return URL: the order page, shown to a guest through its token.

    The redirect back is never proof of payment: the page shows what the notification
    recorded (``pending_payment`` until it came).
    """
    return base.rstrip("/") + order_path_template() + "?token={token}"


def order_url(*, number: str, guest_token: str) -> str:
    """The order page of one order (relative)."""
    return order_path_template().replace("{number}", number) + f"?token={guest_token}"
