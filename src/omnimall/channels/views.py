"""Store referral link and QR code pages (see ``channels.referrals``)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_GET

from omnimall.core import qr

from . import referrals


@require_GET
@never_cache
def referral(request: HttpRequest, code: str) -> HttpResponse:
    """A store's referral link: remember the store, then go shopping."""
    store = referrals.find_referral_store(code)
    target = referrals.safe_next(request) or reverse("storefront:home")
    response = HttpResponseRedirect(target)
    if store is not None:
        referrals.remember_referral(request, response, code=store.code)
    return response


@require_GET
@cache_control(max_age=86400, public=True)
def referral_qr(request: HttpRequest, code: str) -> HttpResponse:
    """The QR code (SVG) of a store's referral link, to print for the shop window."""
    store = referrals.find_referral_store(code)
    if store is None:
        raise Http404("unknown store")
    url = referrals.referral_url(request, store.code)
    response = HttpResponse(qr.qr_svg(url, title=url), content_type="image/svg+xml")
    response["Content-Disposition"] = f'inline; filename="store-{store.code}-qr.svg"'
    return response
