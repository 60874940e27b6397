"""Printable packing slips and pick lists for fulfilment requests (store staff, and
warehouse staff without a WMS).

Pages under ``/admin/inventory/fulfilmentrequest/`` (added by ``FulfilmentRequestAdmin``):

- ``<id>/packing-slip/`` (``admin:inventory_fulfilmentrequest_packing_slip``): one slip,
  linked from the request's page and from its order's page;
- ``packing-slips/?ids=3,7,9`` (``…_packing_slips``): one slip a page, where the list
  action "Print packing slips" leads;
- ``pick-list/?ids=3,7,9`` (``…_pick_list``): the requests' lines summed per SKU, where
  "Print pick list" leads.

The actions redirect to a GET page rather than answer the POST: the page can be reloaded
and printed again without resubmitting the list's form. Whoever may view fulfilment
requests may print them, only at their own locations (``scope_of``, as the list): a
request elsewhere is left out, and a page left with none is 404. Printing changes no
request; each slip printed is on the audit trail (``services.slips``).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import ngettext

from omnimall.core.actors import Actor
from omnimall.core.barcodes import code128_data_uri
from omnimall.inventory.picking import PICKABLE_STATES, plan_pick_list
from omnimall.inventory.selectors import slips as slip_selectors
from omnimall.inventory.services.slips import record_slips_printed

from .scope import scope_of

if TYPE_CHECKING:
    from collections.abc import Callable

    from django.contrib.admin import ModelAdmin
    from django.db.models import QuerySet
    from django.http import HttpRequest, HttpResponse
    from django.urls import URLPattern

    from omnimall.inventory.models import FulfilmentRequest

SLIPS_TEMPLATE = "admin/inventory/fulfilmentrequest/packing_slips.html"
PICK_LIST_TEMPLATE = "admin/inventory/fulfilmentrequest/pick_list.html"
VIEW = "inventory.view_fulfilmentrequest"
# A day's parcels at a busy store fit many times over; a bigger batch is a mistake (every
# request of the list selected) that would print a ream and stall the page.
MAX_PRINT = 200
ID = re.compile(r"[0-9]{1,18}")


def _require_view(request: HttpRequest, model_admin: ModelAdmin[Any]) -> None:
    if not model_admin.has_view_permission(request):
        raise PermissionDenied


def _ids_of(request: HttpRequest) -> list[int]:
    """``?ids=3,7,9`` → ``[3, 7, 9]``, at most ``MAX_PRINT``. Anything but a plain number
    of up to 18 digits is ignored: ``"²"`` passes ``isdigit`` yet breaks ``int``, and a
    longer number breaks the database's integer before it can match nothing."""
    parts = request.GET.get("ids", "").split(",")
    ids = {int(part) for part in (p.strip() for p in parts) if ID.fullmatch(part)}
    return sorted(ids)[:MAX_PRINT]


def _slips_page(request: HttpRequest, *, request_ids: list[int], back_url: str) -> TemplateResponse:
    slips = slip_selectors.list_packing_slips(
        request_ids=request_ids, location_ids=scope_of(request).location_ids
    )
    if not slips:
        raise Http404
    record_slips_printed(
        actor=Actor.from_user(request.user), requests=[(slip.id, slip.number) for slip in slips]
    )
    pages = [
        (slip, code128_data_uri(slip.order_number) if slip.order_number else "") for slip in slips
    ]
    return TemplateResponse(request, SLIPS_TEMPLATE, {"pages": pages, "back_url": back_url})


def packing_slip_view(
    request: HttpRequest, *, model_admin: ModelAdmin[Any], request_id: int
) -> TemplateResponse:
    _require_view(request, model_admin)
    back = reverse("admin:inventory_fulfilmentrequest_change", args=[request_id])
    return _slips_page(request, request_ids=[request_id], back_url=back)


def packing_slips_view(request: HttpRequest, *, model_admin: ModelAdmin[Any]) -> TemplateResponse:
    _require_view(request, model_admin)
    back = reverse("admin:inventory_fulfilmentrequest_changelist")
    return _slips_page(request, request_ids=_ids_of(request), back_url=back)


def pick_list_view(request: HttpRequest, *, model_admin: ModelAdmin[Any]) -> TemplateResponse:
    _require_view(request, model_admin)
    slips = slip_selectors.list_packing_slips(
        request_ids=_ids_of(request), location_ids=scope_of(request).location_ids
    )
    if not slips:
        raise Http404
    sections = plan_pick_list(slip_selectors.pick_lines(slips))
    context = {
        "sections": sections,
        "requests": [slip.number for slip in slips],
        "left_out": [slip for slip in slips if slip.state not in PICKABLE_STATES],
        "back_url": reverse("admin:inventory_fulfilmentrequest_changelist"),
    }
    return TemplateResponse(request, PICK_LIST_TEMPLATE, context)


def print_redirect(
    model_admin: ModelAdmin[Any],
    request: HttpRequest,
    queryset: QuerySet[FulfilmentRequest],
    *,
    page: str,
) -> HttpResponse | None:
    """For a list action: on to ``page`` (``packing_slips``, ``pick_list``) with the
    selected requests, or back to the list with a message when there are too many."""
    ids = list(queryset.order_by("pk").values_list("pk", flat=True)[: MAX_PRINT + 1])
    if len(ids) > MAX_PRINT:
        model_admin.message_user(
            request,
            ngettext(
                "Select at most %(count)d request to print at once.",
                "Select at most %(count)d requests to print at once.",
                MAX_PRINT,
            )
            % {"count": MAX_PRINT},
            messages.ERROR,
        )
        return None
    url = reverse(f"admin:inventory_fulfilmentrequest_{page}")
    return HttpResponseRedirect(f"{url}?ids={','.join(map(str, ids))}")


def packing_slip_links(request: HttpRequest, *, order_number: str) -> list[tuple[str, str]]:
    """``(request number, slip URL)`` for each of an order's requests this staff member
    may print (for the order's page): none without the view permission, only their own
    locations' for store staff, none for a rejected or cancelled request. One query."""
    if not request.user.has_perm(VIEW):
        return []
    refs = slip_selectors.list_printable_requests(
        owner_type="order", owner_id=order_number, location_ids=scope_of(request).location_ids
    )
    return [
        (ref.number, reverse("admin:inventory_fulfilmentrequest_packing_slip", args=[ref.id]))
        for ref in refs
    ]


def slip_urls(model_admin: ModelAdmin[Any]) -> list[URLPattern]:
    """The printing pages' URLs, for ``FulfilmentRequestAdmin.get_urls``."""
    wrap: Callable[..., Any] = model_admin.admin_site.admin_view

    def one(request: HttpRequest, request_id: int) -> HttpResponse:
        return packing_slip_view(request, model_admin=model_admin, request_id=request_id)

    def many(request: HttpRequest) -> HttpResponse:
        return packing_slips_view(request, model_admin=model_admin)

    def pick(request: HttpRequest) -> HttpResponse:
        return pick_list_view(request, model_admin=model_admin)

    name = "inventory_fulfilmentrequest"
    return [
        path("<int:request_id>/packing-slip/", wrap(one), name=f"{name}_packing_slip"),
        path("packing-slips/", wrap(many), name=f"{name}_packing_slips"),
        path("pick-list/", wrap(pick), name=f"{name}_pick_list"),
    ]
