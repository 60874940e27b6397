"""The signed-in shopper's own pages: account home, address book and order history.

Reads go through ``checkout.selectors`` and ``orders.selectors``; writes through
``checkout.services.addresses``. An address id that is not the shopper's own answers 404,
the same as one that does not exist.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from omnimall.checkout import selectors as checkout_selectors
from omnimall.checkout.services import addresses as address_services
from omnimall.core import shopper_tokens
from omnimall.core.actors import Actor
from omnimall.core.errors import DomainError, NotFoundError
from omnimall.orders import selectors as order_selectors
from omnimall.storefront.accounts.forms import AddressBookForm

RECENT_ORDERS = 3
ADDRESS_FIELDS = (
    "name",
    "phone",
    "province",
    "city",
    "district",
    "street",
    "postal_code",
    "is_default",
)


def _page_number(request: HttpRequest) -> int:
    raw = request.GET.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < len(raw) <= 6 and int(raw) > 0 else 1


@require_GET
@never_cache
@login_required
def home(request: HttpRequest) -> HttpResponse:
    page = order_selectors.list_orders_for_user(user=request.user, page=1)
    counts = order_selectors.count_orders_by_tab(user=request.user)
    context = {
        "recent_orders": page.results[:RECENT_ORDERS],
        "order_count": page.total,
        "order_tabs": _order_tabs(counts),
        "addresses": checkout_selectors.list_addresses(user=request.user)[:1],
        "app_sign_ins": shopper_tokens.live_for(request.user),
    }
    return render(request, "storefront/account/home.html", context)


@require_POST
@never_cache
@login_required
def app_sign_out(request: HttpRequest, token_id: int) -> HttpResponse:
    """Sign one of the shopper's apps out (a lost phone): its token stops working."""
    record = shopper_tokens.find_for(request.user, token_id)
    if record is None:
        raise Http404("unknown app sign-in")
    shopper_tokens.revoke(record=record, actor=Actor.from_user(request.user))
    messages.success(request, _("%(device)s is signed out.") % {"device": _device(record)})
    return redirect("account:home")


def _device(record: Any) -> str:
    return record.device or _("An app")


@require_GET
@never_cache
@login_required
def orders(request: HttpRequest) -> HttpResponse:
    """The order history, one tab at a time (``?show=to_pay``; all orders without it),
    searched by product name or order number (``?q=``)."""
    tab = order_selectors.tab_for(request.GET.get("show"))
    query = " ".join(request.GET.get("q", "").split())[: order_selectors.SEARCH_MAX_LENGTH]
    page = order_selectors.list_orders_for_user(
        user=request.user, page=_page_number(request), show=tab.key, query=query
    )
    counts = order_selectors.count_orders_by_tab(user=request.user)
    # What the pages' links keep: the tab and the search.
    keep = {"show": tab.key} if tab.key != "all" else {}
    if query:
        keep["q"] = query
    context = {
        "page": page,
        "tab": tab,
        "query": query,
        "kept_query": urlencode(keep),
        "order_tabs": _order_tabs(counts),
    }
    return render(request, "storefront/account/orders.html", context)


def _order_tabs(counts: dict[str, int]) -> list[dict[str, Any]]:
    """Each tab with its link and how many orders it holds, for ``_order_tabs.html``."""
    base = reverse("account:orders")
    return [
        {
            "key": tab.key,
            "label": tab.label,
            "count": counts[tab.key],
            "url": base if tab.key == "all" else f"{base}?show={tab.key}",
        }
        for tab in order_selectors.TABS
    ]


@require_GET
@never_cache
@login_required
def addresses(request: HttpRequest) -> HttpResponse:
    context = {"addresses": checkout_selectors.list_addresses(user=request.user)}
    return render(request, "storefront/account/addresses.html", context)


def _own_address(request: HttpRequest, address_id: int) -> Any:
    address = checkout_selectors.get_address(user=request.user, address_id=address_id)
    if address is None:
        raise Http404("unknown address")
    return address


@require_http_methods(["GET", "POST"])
@never_cache
@login_required
def address_edit(request: HttpRequest, address_id: int | None = None) -> HttpResponse:
    """Add (no ``address_id``) or edit one of the shopper's addresses."""
    address = _own_address(request, address_id) if address_id is not None else None
    if request.method == "POST":
        form = AddressBookForm(request.POST)
    elif address is not None:
        form = AddressBookForm(initial={key: getattr(address, key) for key in ADDRESS_FIELDS})
    else:
        form = AddressBookForm()
    if request.method == "POST" and form.is_valid():
        try:
            address_services.save_address(
                user=request.user, data=dict(form.cleaned_data), address_id=address_id
            )
        except NotFoundError:
            raise Http404("unknown address") from None
        except DomainError as refused:
            form.add_refusal(refused, refused.message)
        else:
            messages.success(request, _("Address saved."))
            return redirect("account:addresses")
    context: dict[str, Any] = {"form": form, "address": address}
    return render(request, "storefront/account/address_form.html", context)


@require_POST
@never_cache
@login_required
def address_delete(request: HttpRequest, address_id: int) -> HttpResponse:
    try:
        address_services.delete_address(user=request.user, address_id=address_id)
    except NotFoundError:
        raise Http404("unknown address") from None
    messages.success(request, _("Address deleted."))
    return redirect("account:addresses")
