"""Store referral links and QR codes: how a shopper arrives "from" a store.

Each store has a link ``/s/<store code>/`` (its QR code, ``/s/<code>/qr.svg``, encodes the
same link, for the counter and the shop window). Following it remembers the store in the
session (``SESSION_KEY``) and in a cookie for 30 days (``COOKIE_NAME``), then goes to the
home page or to ``?next=`` when that is a path on this site. Checkout copies
``referral_store_code(request)`` onto the cart (``Cart.referral_store_code``) and order
placement credits the order to that store (``orders.attribution``: a referral wins over
the pick-up store, the home store and the delivery city).

An unknown or closed store's link still leads to the shop (a printed QR code must never
show an error page); it just remembers nothing.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from omnimall.inventory.selectors.allocation import Location, list_locations

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

SESSION_KEY = "omnimall_referral_store"
COOKIE_NAME = "omnimall_referral_store"
COOKIE_MAX_AGE = int(timedelta(days=30).total_seconds())
STORE_KIND = "store"  # inventory LocationKind.STORE
_CODE = re.compile(r"^[-a-zA-Z0-9_]{1,40}$")


def clean_code(code: object) -> str:
    """A well-formed store code (a slug of at most 40 characters), else ""."""
    if not isinstance(code, str):
        return ""
    code = code.strip()
    return code if _CODE.match(code) else ""


def find_referral_store(code: str) -> Location | None:
    """The active store with this code (any case), else None (one query at most)."""
    wanted = clean_code(code).casefold()
    if not wanted:
        return None
    return next(
        (
            loc
            for loc in list_locations()
            if loc.kind == STORE_KIND and loc.code.casefold() == wanted
        ),
        None,
    )


def remember_referral(request: HttpRequest, response: HttpResponse, *, code: str) -> None:
    """Keep the referring store's code in the session and a 30-day cookie."""
    request.session[SESSION_KEY] = code
    response.set_cookie(
        COOKIE_NAME,
        code,
        max_age=COOKIE_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )


def referral_store_code(request: HttpRequest) -> str:
    """The store this shopper arrived from: the session's code, else the cookie's, else ""."""
    session = getattr(request, "session", None)
    from_session = clean_code(session.get(SESSION_KEY, "")) if session is not None else ""
    return from_session or clean_code(request.COOKIES.get(COOKIE_NAME, ""))


def safe_next(request: HttpRequest) -> str:
    """``?next=`` when it is a path on this site ("/p/shirt/"), else "" (no open redirect)."""
    target = request.GET.get("next", "")
    if (
        not target
        or len(target) > 500
        or not target.startswith("/")
        or target.startswith(("//", "/\\"))
    ):
        return ""
    allowed = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if allowed else ""


def referral_url(request: HttpRequest, code: str) -> str:
    """The store's full referral link (``SITE_URL`` when set, else this request's host)."""
    path = reverse("channels:referral", args=[code])
    base = settings.SITE_URL or request.build_absolute_uri("/").rstrip("/")
    return f"{base}{path}"
