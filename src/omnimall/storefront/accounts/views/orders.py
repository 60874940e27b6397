"""One order, seen by its shopper: detail, payment status, cancel, request a return.

Who may see an order: its signed-in owner, or anyone holding its guest token, given as
``?token=`` (the gateway's return URL and the emailed link carry it) or remembered in the
session (``checkout.remembered_orders``) once a token was shown. Anyone else gets the shop's
404 page, exactly as for a number that does not exist (``orders.selectors`` decides).

The detail page is also where the payment gateway sends the shopper back. Coming back is
never proof of payment: while the order is ``pending_payment`` the page says it waits
for the payment confirmation and polls ``order_status`` (an uncached HTMX fragment)
every two seconds; the order becomes paid only when the gateway's signed notification
arrives (``payments`` / ``orders.services.payment``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from omnimall.checkout import links, remembered_orders
from omnimall.checkout.forms import AddressForm, InvoiceForm
from omnimall.checkout.services import carts, reorder
from omnimall.core import qr, throttle
from omnimall.core.actors import Actor
from omnimall.core.errors import DomainError
from omnimall.orders import domain, selectors
from omnimall.orders.errors import (
    InvalidInvoiceError,
    OrderAlreadyPaidError,
    OrderBeingPreparedError,
    OrderNotFoundError,
)
from omnimall.orders.forms import CollectorForm
from omnimall.orders.selectors import OrderView, lookup
from omnimall.orders.services import (
    cancellation,
    collect_by,
    collector,
    invoices,
    pickup_store,
    readdress,
    receipt,
    returns,
)
from omnimall.orders.services import payment as order_payment
from omnimall.payments import selectors as payment_selectors
from omnimall.storefront.accounts.forms import CancelForm, OrderLookupForm, ReturnForm

TOKEN_MAX_LENGTH = 64
PAYMENT_OUTCOMES = ("declined", "abandoned")
PENDING_PAYMENT_STATE = "pending"  # payments.models.PaymentState.PENDING
PICKUP_METHOD = "pickup"  # orders.models.DeliveryMethod.PICKUP


def _given_token(request: HttpRequest) -> str:
    raw = request.POST.get("token") or request.GET.get("token") or ""
    return raw.strip()[:TOKEN_MAX_LENGTH]


def load_order(request: HttpRequest, number: str) -> tuple[OrderView, str]:
    """The order ``number`` if this visitor may see it, and the token that showed it.

    The token is "" when the signed-in owner sees it. Raises ``Http404`` otherwise.
    """
    number = selectors.clean_number(number)
    if not number:
        raise Http404("unknown order")
    if request.user.is_authenticated:
        try:
            owned = selectors.get_order_for_viewer(
                number=number, user=request.user, guest_token=None
            )
        except OrderNotFoundError:
            pass
        else:
            return owned, ""
    given = _given_token(request)
    remembered = remembered_orders.remembered(request.session).get(number, "")
    for token in dict.fromkeys(t for t in (given, remembered) if t):
        try:
            order = selectors.get_order_for_viewer(number=number, user=None, guest_token=token)
        except OrderNotFoundError:
            continue
        remembered_orders.remember(request.session, number, token)
        return order, token
    raise Http404("unknown order")


def _order_url(name: str, number: str, token: str, **params: str) -> str:
    query = {"token": token, **params} if token else dict(params)
    url = reverse(f"account:{name}", args=[number])
    return f"{url}?{urlencode(query)}" if query else url


def _shopper_actor(request: HttpRequest, order: OrderView) -> Actor:
    if request.user.is_authenticated:
        return Actor.from_user(request.user)
    return Actor(kind="anonymous", label=f"guest {order.email}"[:150])


def pay_again_url(order: OrderView) -> str:
    """Where the shopper can still pay: the latest open payment's gateway page, or "".

    ``orders.selectors.OrderView`` does not carry the payment URL, so it is found here
    from the payments ledger; only the sandbox gateway's page address is known.
    """
    if order.state != domain.PENDING_PAYMENT:
        return ""
    for payment in payment_selectors.list_payments_of_order(order.id):  # newest first
        if payment.state == PENDING_PAYMENT_STATE and payment.gateway == "sandbox":
            return reverse("payments:sandbox_pay", args=[payment.trade_no])
    return ""


def _detail_context(request: HttpRequest, order: OrderView, token: str) -> dict[str, Any]:
    outcome = request.GET.get("payment", "")
    outcome = outcome if outcome in PAYMENT_OUTCOMES else ""
    pending = order.state == domain.PENDING_PAYMENT
    # The polled status block keeps what the gateway's return said (declined, abandoned).
    status_params = {"was": order.state, **({"payment": outcome} if outcome else {})}
    return {
        "order": order,
        "token": token,
        "is_pending": pending,
        "payment_outcome": outcome,
        "pay_again_url": pay_again_url(order) if pending else "",
        "status_url": _order_url("order_status", order.number, token, **status_params),
        "cancel_url": _order_url("order_cancel", order.number, token),
        "received_url": _order_url("order_received", order.number, token),
        "keep_longer_url": _order_url("order_keep_longer", order.number, token),
        "keep_days": settings.PICKUP_EXTENSION_DAYS,
        "address_url": _order_url("order_address", order.number, token),
        "store_url": _order_url("order_store", order.number, token),
        "collector_url": _order_url("order_collector", order.number, token),
        "pay_url": _order_url("order_pay", order.number, token),
        "return_url": _order_url("order_return", order.number, token),
        "invoice_url": _order_url("order_invoice", order.number, token),
        "detail_url": _order_url("order_detail", order.number, token),
        "buy_again_url": _order_url("order_buy_again", order.number, token),
        "pickup_qr_url": (
            _order_url("order_pickup_qr", order.number, token) if _has_pickup_code(order) else ""
        ),
    }


@require_GET
@never_cache
def order_detail(request: HttpRequest, number: str) -> HttpResponse:
    order, token = load_order(request, number)
    context = _detail_context(request, order, token)
    return render(request, "storefront/account/order_detail.html", context)


def _has_pickup_code(order: OrderView) -> bool:
    # ``orders.selectors`` gives the code only while the order waits for pick-up (paid,
    # allocated, ready): none once picked up, cancelled or refunded.
    return order.delivery_method == PICKUP_METHOD and bool(order.pickup_code)


@require_GET
def order_pickup_qr(request: HttpRequest, number: str) -> HttpResponse:
    """The pick-up code as a QR code (SVG) whose content is exactly the code, so a
    counter scanner in keyboard mode types it into the back office's pick-up desk.

    For whoever may see the order (its owner, or the holder of its guest token), and
    only while it has a pick-up code; 404 otherwise. Never cached: the code is what
    collects the goods.
    """
    order, _token = load_order(request, number)
    if not _has_pickup_code(order):
        raise Http404("no pick-up code")
    response = HttpResponse(qr.qr_svg(order.pickup_code), content_type="image/svg+xml")
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
@never_cache
@vary_on_headers("HX-Request")
def order_status(request: HttpRequest, number: str) -> HttpResponse:
    """The status block alone, polled while the payment confirmation is awaited.

    When the order has left the state the page was showing (``?was=``), HTMX is told to
    reload the whole page, which then shows what payment brought (pick-up code, timeline).
    Without HTMX this is a plain page with the same block.
    """
    order, token = load_order(request, number)
    context = _detail_context(request, order, token)
    fragment = request.headers.get("HX-Request") == "true"
    template = "_order_status.html" if fragment else "order_status.html"
    response = render(request, f"storefront/account/{template}", context)
    was = request.GET.get("was", "")
    if fragment and was and was != order.state:
        response["HX-Refresh"] = "true"
    return response


@require_http_methods(["GET", "POST"])
@never_cache
def order_cancel(request: HttpRequest, number: str) -> HttpResponse:
    """The confirmation page with the reasons to choose from (GET), and the cancellation."""
    order, token = load_order(request, number)
    detail_url = _order_url("order_detail", order.number, token)
    form = CancelForm(request.POST if request.method == "POST" else None)
    if request.method == "GET" or not form.is_valid():
        if not order.can_cancel:
            messages.error(request, _("This order can no longer be cancelled here."))
            return HttpResponseRedirect(detail_url)
        context = {
            "order": order,
            "form": form,
            "detail_url": detail_url,
            "action_url": _order_url("order_cancel", order.number, token),
        }
        return render(request, "storefront/account/order_cancel.html", context)
    try:
        cancellation.cancel_order(
            order_id=order.id,
            actor=_shopper_actor(request, order),
            # In English, like every timeline text: the back office shows it in the staff
            # member's language, whatever the shopper's was.
            reason=(
                gettext_noop("Cancelled by the shopper before paying.")
                if order.state == domain.PENDING_PAYMENT
                else gettext_noop("Cancelled by the shopper before it was prepared.")
            ),
            by_shopper=True,
            why=form.cleaned_data["why"],
        )
    except OrderNotFoundError:
        raise Http404("unknown order") from None
    except OrderAlreadyPaidError:
        messages.error(request, _("This order has just been paid, so it was not cancelled."))
    except OrderBeingPreparedError:
        messages.error(
            request,
            _(
                "This order can no longer be cancelled here: we have started preparing it. "
                "You can refuse the parcel, or request a return once it arrives."
            ),
        )
    except DomainError:
        messages.error(
            request,
            _(
                "This order can no longer be cancelled here. "
                "Please contact us, or request a return once it arrives."
            ),
        )
    else:
        messages.success(
            request,
            _("Your order has been cancelled.")
            if order.state == domain.PENDING_PAYMENT
            else _("Your order has been cancelled. Your refund is on its way."),
        )
    return HttpResponseRedirect(_order_url("order_detail", order.number, token))


@require_POST
@never_cache
def order_received(request: HttpRequest, number: str) -> HttpResponse:
    """The shopper confirms receipt of a shipped order (确认收货)."""
    order, token = load_order(request, number)
    try:
        receipt.confirm_receipt(order_id=order.id, actor=_shopper_actor(request, order))
    except OrderNotFoundError:
        raise Http404("unknown order") from None
    except DomainError:
        messages.error(
            request, _("Receipt can be confirmed once everything in the order has shipped.")
        )
    else:
        messages.success(request, _("Thank you: the order is marked as received."))
    return HttpResponseRedirect(_order_url("order_detail", order.number, token))


@require_POST
@never_cache
def order_keep_longer(request: HttpRequest, number: str) -> HttpResponse:
    """The shopper keeps a pick-up waiting at its store a few days longer (延长取货)."""
    order, token = load_order(request, number)
    try:
        kept = collect_by.keep_longer(order_id=order.id, actor=_shopper_actor(request, order))
    except DomainError:
        messages.error(
            request, _("This order is no longer waiting at the store, so it cannot be kept longer.")
        )
    else:
        deadline = collect_by.local_deadline(kept.collect_by) if kept.collect_by else ""
        messages.success(
            request,
            _("The store keeps your order until %(deadline)s. We have emailed you the new date.")
            % {"deadline": deadline},
        )
    return HttpResponseRedirect(_order_url("order_detail", order.number, token))


@require_http_methods(["GET", "POST"])
@never_cache
def order_collector(request: HttpRequest, number: str) -> HttpResponse:
    """Someone else collects the pick-up (代取), or the shopper again after all
    (``orders.services.collector``)."""
    order, token = load_order(request, number)
    detail_url = _order_url("order_detail", order.number, token)
    if not order.can_set_collector:
        messages.error(request, _("This order can no longer be collected by someone else."))
        return HttpResponseRedirect(detail_url)
    actor = _shopper_actor(request, order)
    if request.method == "POST" and request.POST.get("action") == "remove":
        collector.clear_collector(order_id=order.id, actor=actor)
        messages.success(request, _("You will collect the order yourself."))
        return HttpResponseRedirect(detail_url)
    initial = {"name": order.collector_name, "phone": order.collector_phone}
    form = CollectorForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            collector.set_collector(
                order_id=order.id,
                name=form.cleaned_data["name"],
                phone=form.cleaned_data["phone"],
                actor=actor,
            )
        except DomainError as refused:
            form.add_refusal(refused, _("This order can no longer be collected by someone else."))
        else:
            messages.success(
                request,
                _("%(name)s can collect the order. We text them the code when it is ready.")
                % {"name": form.cleaned_data["name"]},
            )
            return HttpResponseRedirect(detail_url)
    context = {
        "order": order,
        "form": form,
        "detail_url": detail_url,
        "action_url": _order_url("order_collector", order.number, token),
    }
    status = 422 if form.is_bound and form.errors else 200
    return render(request, "storefront/account/order_collector.html", context, status=status)


PAY_AGAIN_REFUSALS = {
    "hold_expired": gettext_lazy(
        "Your items are no longer held for this order. Please check out again."
    ),
    "order_paid": gettext_lazy("This order has just been paid."),
}


@require_POST
def order_pay(request: HttpRequest, number: str) -> HttpResponse:
    """Pay again after a declined or abandoned payment: a fresh gateway payment."""
    order, token = load_order(request, number)
    base = (settings.SITE_URL or request.build_absolute_uri("/")).rstrip("/")
    try:
        payment_url = order_payment.restart_payment(
            order_id=order.id,
            notify_url=links.notify_url(base),
            return_url=base + _order_url("order_detail", order.number, token),
        )
    except DomainError as refused:
        messages.error(request, PAY_AGAIN_REFUSALS.get(refused.code, refused.message))
        return HttpResponseRedirect(_order_url("order_detail", order.number, token))
    return HttpResponseRedirect(payment_url)


def returnable_lines(order: OrderView) -> list[tuple[int, str, int]]:
    """(line id, label, units that may still be returned) for each line with some left."""
    lines = []
    for line in order.lines:
        left = line.quantity - line.quantity_returned
        if left > 0:
            label = " · ".join(part for part in (line.product_name, line.variant) if part)
            lines.append((line.id, label, left))
    return lines


@require_http_methods(["GET", "POST"])
@never_cache
def order_return(request: HttpRequest, number: str) -> HttpResponse:
    order, token = load_order(request, number)
    detail_url = _order_url("order_detail", order.number, token)
    lines = returnable_lines(order)
    if not order.can_request_return or not lines:
        messages.error(request, _("This order cannot be returned now."))
        return HttpResponseRedirect(detail_url)
    form = ReturnForm(request.POST if request.method == "POST" else None, lines=lines)
    if request.method == "POST" and form.is_valid():
        try:
            returns.request_return(
                order_id=order.id,
                lines=form.chosen_lines(),
                reason=form.cleaned_data["reason"],
                actor=_shopper_actor(request, order),
            )
        except OrderNotFoundError:
            raise Http404("unknown order") from None
        except DomainError as refused:
            form.add_error(None, refused.message)
        else:
            messages.success(
                request, _("Your return request has been sent. We will get back to you soon.")
            )
            return HttpResponseRedirect(detail_url)
    context = {
        "order": order,
        "form": form,
        "token": token,
        "detail_url": detail_url,
        "action_url": _order_url("order_return", order.number, token),
    }
    return render(request, "storefront/account/order_return.html", context)


@require_http_methods(["GET", "POST"])
@never_cache
def order_address(request: HttpRequest, number: str) -> HttpResponse:
    """A new delivery address before a warehouse or store takes the order on
    (``orders.services.readdress``)."""
    order, token = load_order(request, number)
    detail_url = _order_url("order_detail", order.number, token)
    if not order.can_change_address:
        messages.error(request, _("This order's delivery address can no longer change."))
        return HttpResponseRedirect(detail_url)
    form = AddressForm(request.POST if request.method == "POST" else None, initial=order.ship_to)
    if request.method == "POST" and form.is_valid():
        try:
            refunded_before = order.amount_refunded
            changed = readdress.change_ship_to(
                order_id=order.id, address=form.cleaned_data, actor=_shopper_actor(request, order)
            )
        except DomainError as refused:
            form.add_refusal(refused, _address_refusal(refused))
        else:
            messages.success(request, _("The order will be delivered to the new address."))
            if changed.amount_refunded > refunded_before:
                messages.success(
                    request,
                    _("Delivery there costs less: ¥%(amount)s is being refunded to you.")
                    % {"amount": f"{changed.amount_refunded - refunded_before:.2f}"},
                )
            return HttpResponseRedirect(detail_url)
    context = {
        "order": order,
        "form": form,
        "detail_url": detail_url,
        "action_url": _order_url("order_address", order.number, token),
    }
    return render(request, "storefront/account/order_address.html", context)


def _address_refusal(refused: DomainError) -> str:
    texts = {
        "order_being_prepared": _(
            "The warehouse has started preparing this order: its address can no longer change."
        ),
        "address_not_changeable": _("This order's delivery address can no longer change."),
        "no_delivery_to_region": _("Sorry, we do not deliver to this province or region."),
        "delivery_fee_differs": _(
            "Delivery to this address costs ¥%(fee)s, not the ¥%(charged)s paid for this "
            "order. Cancel the order and order again to deliver there, or call customer "
            "service: they may be able to help."
        )
        % {
            "fee": refused.details.get("fee", ""),
            "charged": refused.details.get("charged", ""),
        },
    }
    return texts.get(refused.code, _("Sorry, that did not work. Please try again."))


STORE_CITY_MAX_LENGTH = 60  # as checkout's store picker and the API take it


@require_http_methods(["GET", "POST"])
@never_cache
def order_store(request: HttpRequest, number: str) -> HttpResponse:
    """Another pick-up store, before the order's store puts it aside
    (``orders.services.pickup_store``): the stores that hold all of it, nearest to the city
    asked for (else to its present store) first."""
    order, token = load_order(request, number)
    detail_url = _order_url("order_detail", order.number, token)
    if not order.can_change_store:
        messages.error(request, _("This order's pick-up store can no longer change."))
        return HttpResponseRedirect(detail_url)
    city = (request.POST.get("city") or request.GET.get("city") or "").strip()
    city = city[:STORE_CITY_MAX_LENGTH]
    chosen = (request.POST.get("store") or "").strip()[:40]
    error = ""
    if request.method == "POST" and request.POST.get("action") != "stores":
        if not chosen:
            error = _("Choose a store.")
        else:
            try:
                pickup_store.change_pickup_store(
                    order_id=order.id, store=chosen, actor=_shopper_actor(request, order)
                )
            except DomainError as refused:
                error = _store_refusal(refused)
            else:
                messages.success(request, _("Your order will be picked up at the new store."))
                return HttpResponseRedirect(detail_url)
    context = {
        "order": order,
        "stores": selectors.list_other_pickup_stores(order, city=city or None),
        "city": city,
        "selected_store": chosen,
        "error": error,
        "token": token,
        "detail_url": detail_url,
        "action_url": _order_url("order_store", order.number, token),
    }
    return render(
        request, "storefront/account/order_store.html", context, status=422 if error else 200
    )


def _store_refusal(refused: DomainError) -> str:
    texts = {
        "order_being_prepared": _(
            "The store has already put this order aside: its pick-up store can no longer change."
        ),
        "pickup_store_not_changeable": _("This order's pick-up store can no longer change."),
        "out_of_stock": _(
            "That store no longer holds everything in this order. Choose another store."
        ),
        "invalid_store": _("That store does not offer pick-up. Choose another store."),
        "hold_expired": _("The time to pay for this order is over."),
    }
    return texts.get(refused.code, _("Sorry, that did not work. Please try again."))


@require_http_methods(["GET", "POST"])
@never_cache
def order_invoice(request: HttpRequest, number: str) -> HttpResponse:
    """Ask for an invoice (fapiao) for the order, or correct the request before it is
    issued (``orders.services.invoices``)."""
    order, token = load_order(request, number)
    detail_url = _order_url("order_detail", order.number, token)
    if not order.can_request_invoice:
        messages.error(request, _("This order cannot have an invoice, or it has been issued."))
        return HttpResponseRedirect(detail_url)
    current = order.invoice
    fields = ("kind", "title", "tax_id", "email")
    initial = {key: getattr(current, key) for key in fields} if current else None
    form = InvoiceForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            details = invoices.clean_invoice(
                **form.details(), contact_name=order.contact_name, contact_email=order.email
            )
            invoices.request_invoice(
                order_id=order.id, details=details, actor=_shopper_actor(request, order)
            )
        except InvalidInvoiceError as refused:
            form.add_service_errors(refused.details.get("errors") or {})
        except DomainError as refused:
            form.add_error(None, refused.message)
        else:
            messages.success(request, _("Thank you: we email the invoice once it is issued."))
            return HttpResponseRedirect(detail_url)
    context = {
        "order": order,
        "form": form,
        "detail_url": detail_url,
        "action_url": _order_url("order_invoice", order.number, token),
    }
    return render(request, "storefront/account/order_invoice.html", context)


@require_http_methods(["GET", "POST"])
@never_cache
def order_lookup(request: HttpRequest) -> HttpResponse:
    """ "Find your order": the number and the email or mobile given at checkout open the
    order page, and the session remembers its token as after checkout."""
    form = OrderLookupForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        number = selectors.clean_number(form.cleaned_data["number"])
        try:
            token = lookup.find_guest_token(
                number=form.cleaned_data["number"],
                contact=form.cleaned_data["contact"],
                client=throttle.client_of(request),
            )
        except lookup.TooManyLookupsError:
            form.add_error(None, _("Too many tries. Please wait a few minutes and try again."))
        except OrderNotFoundError:
            form.add_error(
                None,
                _(
                    "We could not find an order with this number and email address or "
                    "mobile number. Please check both and try again."
                ),
            )
        else:
            remembered_orders.remember(request.session, number, token)
            return redirect("account:order_detail", number=number)
    return render(request, "storefront/account/order_lookup.html", {"form": form})


@require_POST
def order_buy_again(request: HttpRequest, number: str) -> HttpResponse:
    """Put the order's items back in the bag, at today's prices, and show the bag (for
    whoever may see the order). What is not on sale any more is named, not added."""
    order, _token = load_order(request, number)
    cart = carts.session_cart(session=request.session, user=request.user, create=True)
    assert cart is not None  # noqa: S101 (create=True always gives one)
    done = reorder.buy_again(
        token=cart.token,
        user=request.user,
        lines=[
            reorder.OrderedLine(sku_id=line.sku_id, sku_code=line.sku_code, quantity=line.quantity)
            for line in order.lines
        ],
    )
    if done.added:
        messages.success(
            request,
            ngettext(
                "%(count)s item of order %(number)s is in your bag, at today's price.",
                "%(count)s items of order %(number)s are in your bag, at today's prices.",
                len(done.added),
            )
            % {"count": len(done.added), "number": order.display_number},
        )
    if done.skipped:
        names = {line.sku_code: line.product_name for line in order.lines}
        skipped = ", ".join(names.get(item.sku_code, item.sku_code) for item in done.skipped)
        messages.warning(
            request,
            _("Not added (not for sale now, or your bag is full): %(items)s") % {"items": skipped},
        )
    return redirect("checkout:cart")
