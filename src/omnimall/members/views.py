"""The storefront member centre, ``/account/member/`` (signed-in shoppers).

Without a linked membership the page offers to join or link one by mobile number: a
one-time code goes to the phone (``services.identity.start_phone_verification``) and the
shopper types it back (``confirm_phone_verification``). With one, it shows the member
card (Code 128 barcode and QR of the card number, to show at the till), the tier and the
progress to the next, the points balances and history, consent and the home store.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from omnimall.core import barcodes, qr
from omnimall.core.actors import Actor
from omnimall.core.errors import DomainError
from omnimall.inventory.selectors.allocation import list_locations
from omnimall.members.errors import VerificationTooSoonError
from omnimall.members.forms import CodeForm, PhoneForm, PreferencesForm
from omnimall.members.selectors import members as member_selectors
from omnimall.members.services import identity

# Set at sign-up (storefront accounts): the number the shopper gave, to prefill the form.
SIGNUP_PHONE_SESSION_KEY = "omnimall_shopper_phone"
VERIFY_PHONE_SESSION_KEY = "omnimall_member_verify_phone"
EXCHANGE_PATH = "/account/member/exchange/"
HISTORY_LIMIT = 30


def _region() -> str:
    return str(getattr(settings, "MEMBER_DEFAULT_REGION", "CN"))


def _store_choices() -> list[tuple[int, str]]:
    return [
        (loc.location_id, f"{loc.name} · {loc.city_name}")  # both in the page's language
        for loc in list_locations()
        if loc.kind == "store"
    ]


def _exchange_url() -> str:
    try:
        resolve(EXCHANGE_PATH)
    except Resolver404:
        return ""
    return EXCHANGE_PATH


def _link_context(request: HttpRequest, **forms: Any) -> dict[str, Any]:
    pending = request.session.get(VERIFY_PHONE_SESSION_KEY, "")
    initial_phone = request.session.get(SIGNUP_PHONE_SESSION_KEY, "")
    context: dict[str, Any] = {
        "phone_form": forms.get("phone_form") or PhoneForm(initial={"phone": initial_phone}),
        "pending_phone": pending,
        "pending_phone_masked": member_selectors.mask_phone(pending) if pending else "",
        "code_form": forms.get("code_form") or CodeForm(initial={"phone": pending}),
    }
    return context


def _centre_context(request: HttpRequest, member_id: int, **forms: Any) -> dict[str, Any]:
    summary = member_selectors.member_summary(member_id)
    assert summary is not None  # noqa: S101 - the caller found the member
    preferences = forms.get("preferences_form") or PreferencesForm(
        stores=_store_choices(),
        initial={
            "consent_sms": summary.consent["sms"],
            "consent_email": summary.consent["email"],
            "consent_wechat": summary.consent["wechat"],
            "home_store": summary.home_store_id or "",
        },
    )
    return {
        "summary": summary,
        "progress": summary.progress,
        "history": member_selectors.points_history_of(member_id, limit=HISTORY_LIMIT),
        "preferences_form": preferences,
        "exchange_url": _exchange_url(),
    }


def _render(request: HttpRequest, status: int = 200, **forms: Any) -> HttpResponse:
    member = member_selectors.member_for_user(request.user.pk)
    context: dict[str, Any] = {"member": member}
    if member is None:
        context.update(_link_context(request, **forms))
    else:
        context.update(_centre_context(request, member.pk, **forms))
    return render(request, "members/member_centre.html", context, status=status)


@require_GET
@never_cache
@login_required
def member_centre(request: HttpRequest) -> HttpResponse:
    return _render(request)


@require_POST
@never_cache
@login_required
def link_start(request: HttpRequest) -> HttpResponse:
    """Send a one-time code to the number the shopper typed."""
    if member_selectors.member_for_user(request.user.pk) is not None:
        return redirect("members:centre")
    form = PhoneForm(request.POST, region=_region())
    if not form.is_valid():
        return _render(request, status=422, phone_form=form)
    phone = form.cleaned_data["phone"]
    try:
        identity.start_phone_verification(user=request.user, phone=phone)
    except VerificationTooSoonError as refused:
        if request.session.get(VERIFY_PHONE_SESSION_KEY) != phone:
            form.add_error("phone", refused.message)
            return _render(request, status=429, phone_form=form)
        messages.info(request, _("We already sent a code a moment ago. Please use that one."))
    except DomainError as refused:
        form.add_error("phone", refused.message)
        return _render(request, status=422, phone_form=form)
    else:
        messages.success(
            request,
            _("We sent a 6-digit code to %(phone)s.")
            % {"phone": member_selectors.mask_phone(phone)},
        )
    request.session[VERIFY_PHONE_SESSION_KEY] = phone
    return redirect("members:centre")


@require_POST
@never_cache
@login_required
def link_confirm(request: HttpRequest) -> HttpResponse:
    """Check the code; link the account to the member with that number."""
    if member_selectors.member_for_user(request.user.pk) is not None:
        return redirect("members:centre")
    form = CodeForm(request.POST)
    if not form.is_valid():
        return _render(request, status=422, code_form=form)
    try:
        identity.confirm_phone_verification(
            user=request.user, phone=form.cleaned_data["phone"], code=form.cleaned_data["code"]
        )
    except DomainError as refused:
        form.add_error("code", _refusal_text(refused))
        return _render(request, status=refused.status, code_form=form)
    request.session.pop(VERIFY_PHONE_SESSION_KEY, None)
    messages.success(request, _("Your membership is linked to this account."))
    return redirect("members:centre")


def _refusal_text(refused: DomainError) -> str:
    texts = {
        "verification_expired": _("This code has expired. Ask for a new one."),
        "verification_locked": _("Too many wrong codes. Ask for a new one."),
        "verification_wrong_code": _("That code is not right. Please check the message."),
        "member_linked_elsewhere": _(
            "This number's membership is linked to another account. "
            "Please contact customer service."
        ),
        "account_already_linked": _("This account is already linked to another membership."),
        "invalid_phone": _("Enter a mobile number, e.g. 138 0013 8000."),
    }
    return texts.get(refused.code, refused.message)


@require_POST
@never_cache
@login_required
def link_restart(request: HttpRequest) -> HttpResponse:
    """Use another number (forget the one waiting for its code)."""
    request.session.pop(VERIFY_PHONE_SESSION_KEY, None)
    return redirect("members:centre")


@require_POST
@never_cache
@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    member = member_selectors.member_for_user(request.user.pk)
    if member is None:
        return redirect("members:centre")
    form = PreferencesForm(request.POST, stores=_store_choices())
    if not form.is_valid():
        return _render(request, status=422, preferences_form=form)
    identity.update_member_profile(
        member_id=member.pk,
        actor=Actor.from_user(request.user),
        consent=form.consent(),
        home_store_id=form.cleaned_data.get("home_store"),
    )
    messages.success(request, _("Your preferences are saved."))
    return redirect("members:centre")


def _own_card(request: HttpRequest) -> str:
    member = member_selectors.member_for_user(request.user.pk)
    if member is None:
        raise Http404("no membership")
    return member.card_number


def _svg_response(svg: bytes) -> HttpResponse:
    response = HttpResponse(svg, content_type="image/svg+xml")
    response["Cache-Control"] = "private, max-age=3600"
    return response


@require_GET
@login_required
def card_barcode(request: HttpRequest) -> HttpResponse:
    """The card number as a Code 128 barcode (SVG), for the till's scanner."""
    return _svg_response(barcodes.code128_svg(_own_card(request)))


@require_GET
@login_required
def card_qr(request: HttpRequest) -> HttpResponse:
    """The card number as a QR code (SVG), for tills with a camera scanner."""
    return _svg_response(qr.qr_svg(_own_card(request)))
