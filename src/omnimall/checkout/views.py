"""Storefront pages of the cart and checkout. Thin: parse, call a service or selector,
render; a service's refusal becomes a message or a form error, never a 500.

None of these pages is cached: they are per shopper. The product page (cached) gets its
add-to-cart form through the uncached availability fragment, and the header its cart
badge through ``cart_summary`` (HTMX, on load and on every ``cart-changed`` event).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from omnimall.checkout import remembered_orders, selectors
from omnimall.checkout.errors import (
    InvalidCheckoutError,
    NoDeliveryToRegionError,
    SkuNotFoundError,
    TooManyUnpaidOrdersError,
)
from omnimall.checkout.forms import (
    AddToCartForm,
    CheckoutForm,
    InvoiceForm,
    LineForm,
    ship_to_province,
)
from omnimall.checkout.links import notify_url, order_return_url
from omnimall.checkout.pricing import user_id_of
from omnimall.checkout.services import carts
from omnimall.checkout.services.checkout import checkout_cart
from omnimall.core import throttle
from omnimall.core.errors import DomainError
from omnimall.inventory.errors import InsufficientStockError
from omnimall.members.domain import national_phone
from omnimall.members.selectors import members as member_selectors
from omnimall.orders.errors import InvalidInvoiceError
from omnimall.orders.selectors.unpaid import AwaitingPayment, list_awaiting_payment
from omnimall.orders.services import points as order_points
from omnimall.storefront.presenters import format_money


def _error_text(error: DomainError) -> str:
    texts = {
        "quantity_out_of_range": _("One line holds at most 20 of an item."),
        "sku_unavailable": _("Sorry, this item is not for sale right now."),
        "unknown_sku": _("Sorry, we could not find this item."),
        "too_many_lines": _("Your bag is full; remove something first."),
        "cart_closed": _("This bag was already checked out."),
        "cart_line_not_found": _("That line is no longer in your bag."),
        "cart_has_unavailable_lines": _("Remove the items that are not available, then pay."),
        "cart_empty": _("Your bag is empty."),
        "out_of_stock": _(
            "Some items ran out while you were checking out. Nothing was charged; "
            "please check your bag."
        ),
        "points_over_limit": _("That is more points than this order can be paid with."),
        "insufficient_points": _("You do not have that many points."),
        "points_need_member": _("Sign in as a member to pay with points."),
        "invalid_points": _("Enter a whole number of points."),
        "too_many_unpaid_orders": _(
            "You already have orders waiting for payment. Pay for or cancel one of them "
            "(under Your orders) before placing another."
        ),
        "too_many_checkouts": _(
            "Too many orders were placed from your network just now. Please wait a few "
            "minutes and try again."
        ),
    }
    return texts.get(error.code, _("Sorry, that did not work. Please try again."))


def _base_url(request: HttpRequest) -> str:
    return settings.SITE_URL or request.build_absolute_uri("/").rstrip("/")


def _priced(request: HttpRequest, method: str = "ship") -> selectors.CartView | None:
    cart = carts.session_cart(session=request.session, user=request.user)
    return selectors.price_cart(cart, method=method) if cart else None


def _cart_context(request: HttpRequest) -> dict[str, Any]:
    # No address yet: delivery at the default rate, shown as an estimate.
    return {"view": _priced(request), "default_rate": selectors.default_rate()}


@never_cache
@require_GET
def cart(request: HttpRequest) -> HttpResponse:
    return render(request, "checkout/cart.html", _cart_context(request))


@never_cache
@require_GET
def cart_summary(request: HttpRequest) -> HttpResponse:
    """The header's account link and bag badge (an uncached HTMX fragment)."""
    token = request.session.get(carts.CART_SESSION_KEY)
    units = selectors.count_units(
        token=token if isinstance(token, str) else None, user=request.user
    )
    return render(request, "checkout/_summary.html", {"units": units})


@require_POST
def cart_add(request: HttpRequest) -> HttpResponse:
    form = AddToCartForm(request.POST)
    error = None
    if form.is_valid():
        bag = carts.session_cart(session=request.session, user=request.user, create=True)
        assert bag is not None  # noqa: S101 (create=True always answers a cart)
        try:
            carts.add_line(
                token=bag.token,
                user=request.user,
                sku_code=form.cleaned_data["sku"],
                quantity=form.cleaned_data["quantity"],
            )
        except DomainError as refused:
            error = _error_text(refused)
    elif "sku" in form.errors:  # a code no SKU can have (too long, control characters)
        error = _error_text(SkuNotFoundError())
    else:
        error = _("Choose a quantity from 1 to 20.")
    if request.headers.get("HX-Request") == "true":
        context = {"error": error, "sku_code": request.POST.get("sku", "")[:64], "added": not error}
        response = render(request, "checkout/_add_to_cart.html", context)
        if not error:
            response["HX-Trigger"] = "cart-changed"
        return response
    if error:
        messages.error(request, error)
    else:
        messages.success(request, _("Added to your bag."))
    return redirect("checkout:cart")


@require_POST
def cart_line(request: HttpRequest, line_id: int) -> HttpResponse:
    """Change a line's quantity, or remove it (``remove=1``)."""
    form = LineForm(request.POST)
    bag = carts.session_cart(session=request.session, user=request.user)
    if bag is not None and form.is_valid():
        try:
            if form.cleaned_data["remove"] or not form.cleaned_data["quantity"]:
                carts.remove_line(token=bag.token, user=request.user, line_id=line_id)
            else:
                carts.set_line_quantity(
                    token=bag.token,
                    user=request.user,
                    line_id=line_id,
                    quantity=form.cleaned_data["quantity"],
                )
        except DomainError as refused:
            messages.error(request, _error_text(refused))
    elif bag is not None:
        messages.error(request, _("Choose a quantity from 1 to 20."))
    if request.headers.get("HX-Request") == "true":
        response = render(request, "checkout/_cart_body.html", _cart_context(request))
        response["HX-Trigger"] = "cart-changed"
        return response
    return redirect("checkout:cart")


def _initial(request: HttpRequest, addresses: list[Any]) -> dict[str, Any]:
    user = request.user
    if not user.is_authenticated:
        return {"delivery_method": "ship"}
    default = addresses[0] if addresses else None
    return {
        "delivery_method": "ship",
        "name": user.get_full_name() or (default.name if default else ""),
        "email": user.email,
        "phone": default.phone if default else _member_phone(request),
        "saved_address": default.pk if default else None,
        "store_city": default.city if default else "",
    }


def _member_phone(request: HttpRequest) -> str:
    """The linked member's mobile, else the one given at sign-up (kept in the session)."""
    member = member_selectors.member_for_user(user_id_of(request.user))
    if member is not None:
        return national_phone(member.phone, region=settings.MEMBER_DEFAULT_REGION)
    return str(request.session.get("omnimall_shopper_phone", ""))


# A guest is counted by the phone they type, which may be someone else's doing: signing in
# counts them by their account instead (``orders.selectors.unpaid``).
_GUEST_UNPAID = gettext_lazy(
    "This mobile number already has orders waiting for payment. Pay for or cancel one of "
    "them, or sign in to check out with your account."
)


def _remember_order(request: HttpRequest, number: str, guest_token: str) -> None:
    remembered_orders.remember(request.session, number, guest_token)
    request.session.pop(carts.CART_SESSION_KEY, None)


def _place(
    request: HttpRequest,
    form: CheckoutForm,
    view: selectors.CartView,
    invoice_form: InvoiceForm | None,
) -> tuple[str | None, str]:
    """Place the order: its payment URL, or None with the refusal on the form; and the
    refusal's code (empty when placed)."""
    base = _base_url(request)
    data = form.cleaned_data
    try:
        placed = checkout_cart(
            cart_token=view.token,
            user=request.user,
            contact=form.contact(),
            method=data["delivery_method"],
            address=form.address(),
            store=data.get("store") or None,
            notify_url=notify_url(base),
            return_url=order_return_url(base),
            points=data.get("points") or 0,
            invoice=invoice_form.details() if invoice_form is not None else None,
            note=data.get("note") or "",
            keep_address=bool(data.get("save_address")) and not data.get("saved_address"),
            client=throttle.client_of(request),
        )
    except InvalidCheckoutError as refused:
        form.add_service_errors(refused.details.get("errors") or {})
        return None, refused.code
    except InvalidInvoiceError as refused:
        if invoice_form is not None:
            invoice_form.add_service_errors(refused.details.get("errors") or {})
        return None, refused.code
    except NoDeliveryToRegionError as refused:
        form.add_no_delivery_error(str(refused.details.get("province") or ""))
        return None, refused.code
    except TooManyUnpaidOrdersError as refused:
        guest = not request.user.is_authenticated
        form.add_error(None, _GUEST_UNPAID if guest else _error_text(refused))
        return None, refused.code
    except (InsufficientStockError, DomainError) as refused:
        form.add_error("points" if refused.code in POINTS_CODES else None, _error_text(refused))
        return None, refused.code
    _remember_order(request, placed.number, placed.guest_token)
    return placed.payment_url, ""


def _unpaid_orders(request: HttpRequest) -> list[AwaitingPayment]:
    """The visitor's orders awaiting payment, to pay or cancel one after the brake on
    unpaid orders refused a checkout: the signed-in shopper's, and a guest's as this
    session remembers them (never anyone else's)."""
    return list_awaiting_payment(
        user_id=user_id_of(request.user),
        guest_tokens=remembered_orders.remembered(request.session),
    )


POINTS_CODES = frozenset(
    {"points_over_limit", "insufficient_points", "points_need_member", "invalid_points"}
)


def _points_context(
    request: HttpRequest, view: selectors.CartView, form: CheckoutForm
) -> dict[str, Any]:
    """The member's points offer and what the points asked for pay, computed here on the
    server (the page never sends an amount). Nothing, and no query, for a guest."""
    user = request.user
    offer = order_points.offer_for(
        user_id=user.pk if user.is_authenticated else None, total=view.totals.total
    )
    if offer is None:
        return {"points_offer": None}
    raw = form["points"].value()
    try:
        asked = int(raw) if raw not in (None, "") else 0
    except (TypeError, ValueError):
        asked = 0
    applied = asked if 0 < asked <= offer.usable else 0
    value = order_points.value_of(applied) if applied else Decimal("0.00")
    return {
        "points_offer": offer,
        "points_applied": applied,
        "points_too_many": asked > offer.usable,
        "points_value": value,
        "amount_due": view.totals.total - value,
    }


def _stores(view: selectors.CartView, city: str) -> list[Any]:
    try:
        return selectors.list_cart_pickup_stores(view=view, city=city or None)
    except DomainError:
        return []


def _fee_unseen(request: HttpRequest, view: selectors.CartView) -> bool:
    """The page showed a lower delivery fee than the order would be charged: the province
    changed since (and the summary was not redrawn), or the rates did. The shown fee only
    decides whether to ask again, never what is charged."""
    if "shipping_quoted" not in request.POST or view.province is None or not view.delivers:
        # Not sent by our page (an API-like post); or no province we know, or one not
        # delivered to: checkout refuses those itself.
        return False
    try:
        quoted = Decimal(request.POST["shipping_quoted"])
    except (InvalidOperation, ValueError):
        return True
    return not quoted.is_finite() or quoted < view.totals.shipping


def _province_name(view: selectors.CartView) -> str:
    return selectors.province_names((view.province,))[0] if view.province else ""


def _ask_to_confirm_fee(form: CheckoutForm, view: selectors.CartView) -> None:
    form.add_error(
        None,
        _(
            "Delivery to %(province)s costs %(fee)s: the total is updated. "
            "Check it and press Pay again."
        )
        % {"province": _province_name(view), "fee": format_money(view.totals.shipping)},
    )


def _summary_context(
    request: HttpRequest, view: selectors.CartView, form: CheckoutForm
) -> dict[str, Any]:
    """What the order summary (``checkout/_order_summary.html``) shows, on the page and
    when it alone is redrawn."""
    return {
        "view": view,
        # The fee the summary shows, posted back with "Pay" (``_fee_unseen``).
        "shipping_quoted": f"{view.totals.shipping:.2f}",
        "shipping_province": _province_name(view),
        **_points_context(request, view, form),
    }


def _redraws_summary(request: HttpRequest) -> bool:
    """The summary's own HTMX request, sent when the province, the saved address or the
    method changes. The same post without JavaScript gets the whole page."""
    return (
        request.method == "POST"
        and request.POST.get("action") == "quote"
        and request.headers.get("HX-Request") == "true"
    )


def _to_bag(request: HttpRequest) -> HttpResponse:
    if _redraws_summary(request):
        # The answer would be swapped into the summary: send the browser to the bag.
        return HttpResponseClientRedirect(reverse("checkout:cart"))
    return redirect("checkout:cart")


@never_cache
@require_http_methods(["GET", "POST"])
def checkout(request: HttpRequest) -> HttpResponse:
    """The checkout page. Delivery is priced for the province of the chosen saved address
    or of the typed one; the summary is redrawn (HTMX) when either changes, and a "Pay"
    that would charge more delivery than the page showed shows the new total first."""
    method = "pickup" if request.POST.get("delivery_method") == "pickup" else "ship"
    cart = carts.session_cart(session=request.session, user=request.user)
    if cart is None:
        return _to_bag(request)
    addresses = selectors.list_addresses(user=request.user)
    initial = _initial(request, addresses) if request.method != "POST" else {}
    province = ship_to_province(request.POST if request.method == "POST" else initial, addresses)
    view = selectors.price_cart(cart, method=method, province=province)
    if not view.lines:
        return _to_bag(request)
    if _redraws_summary(request):
        # Only the posted points are read from the form: the summary shows no errors, so
        # the form is not validated, and nothing else of the page is computed.
        form = CheckoutForm(request.POST, addresses=addresses)
        return render(
            request, "checkout/_order_summary.html", _summary_context(request, view, form)
        )
    unpaid: list[AwaitingPayment] = []
    refused_unpaid = False
    if request.method == "POST":
        form = CheckoutForm(request.POST, addresses=addresses)
        invoice_form = InvoiceForm(request.POST, prefix="invoice")
        wants_invoice = form.is_valid() and form.cleaned_data.get("want_invoice")
        if (
            request.POST.get("action") == "pay"
            and form.is_valid()
            and (not wants_invoice or invoice_form.is_valid())
        ):
            if _fee_unseen(request, view):
                _ask_to_confirm_fee(form, view)
            else:
                payment_url, refusal = _place(
                    request, form, view, invoice_form if wants_invoice else None
                )
                if payment_url:
                    return redirect(payment_url)
                if refusal == TooManyUnpaidOrdersError.code:
                    refused_unpaid = True
                    unpaid = _unpaid_orders(request)
    else:
        form = CheckoutForm(initial=initial, addresses=addresses)
        invoice_form = InvoiceForm(prefix="invoice")
    return _render_page(
        request, view, form, invoice_form, addresses, unpaid, refused_unpaid=refused_unpaid
    )


def _render_page(
    request: HttpRequest,
    view: selectors.CartView,
    form: CheckoutForm,
    invoice_form: InvoiceForm,
    addresses: list[Any],
    unpaid: list[AwaitingPayment],
    *,
    refused_unpaid: bool = False,
) -> HttpResponse:
    summary = _summary_context(request, view, form)
    if summary.get("points_too_many") and not form["points"].errors:
        # A field error like any other, so that the page's error summary names it.
        form.add_error(
            "points",
            _("At most %(n)s points on this order.") % {"n": summary["points_offer"].usable},
        )
    city = (form["store_city"].value() or "").strip()[:60]
    stores = _stores(view, city)
    context = {
        **summary,
        "form": form,
        "addresses": addresses,
        "stores": stores,
        "stores_far": selectors.none_nearby(stores),
        "nearby_store": selectors.nearby_store(stores),
        "selected_store": form["store"].value() or "",
        "city": city,
        "invoice_form": invoice_form,
        "unpaid_orders": unpaid,
        "refused_unpaid": refused_unpaid,
    }
    return render(request, "checkout/checkout.html", context)


@never_cache
@require_GET
def checkout_stores(request: HttpRequest) -> HttpResponse:
    """The store picker: stores holding the whole bag, nearest the city first (HTMX)."""
    view = _priced(request, "pickup")
    city = request.GET.get("store_city", "").replace("\x00", "").strip()[:60]
    stores = _stores(view, city) if view else []
    context = {
        "stores": stores,
        "stores_far": selectors.none_nearby(stores),
        "nearby_store": selectors.nearby_store(stores),
        "selected_store": request.GET.get("store", "")[:40],
        "city": city,
    }
    return render(request, "checkout/_stores.html", context)
