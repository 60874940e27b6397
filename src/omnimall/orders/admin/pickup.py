"""The pick-up desk: type or scan the shopper's code, check the lines, hand over.

Served at ``/admin/orders/order/pickup-desk/`` (``admin:orders_pickup_desk``, added by
``OrderAdmin.get_urls``). Store staff find only orders awaiting pick-up at their own
stores; logistics and superusers at every store. Below the code box, the shelf: every
pick-up waiting there, the nearest deadline first, with whom to call. Handing over calls
``orders.services.pickup.hand_over`` (stock committed, order ``picked_up``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from omnimall.core import clock
from omnimall.core.actors import Actor
from omnimall.core.errors import DomainError
from omnimall.orders import domain, selectors
from omnimall.orders.services import pickup

from .scope import order_scope

if TYPE_CHECKING:
    from django.contrib.admin import ModelAdmin
    from django.http import HttpRequest, HttpResponse

DESK_TEMPLATE = "orders/admin/pickup_desk.html"


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Pick-up code"),
        max_length=20,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off", "size": 10}),
    )


def pickup_desk_view(request: HttpRequest, *, model_admin: ModelAdmin[Any]) -> HttpResponse:
    if not request.user.has_perm("orders.change_order"):
        raise PermissionDenied
    scope = order_scope(request)
    store_ids = None if scope.location_ids is None else sorted(scope.location_ids)
    form = CodeForm(request.POST or request.GET or None)
    found = None
    if form.is_bound and form.is_valid():
        code = form.cleaned_data["code"]
        found = selectors.find_pickup(store_ids=store_ids, code=code)
        if found is None:
            form.add_error("code", gettext("No order awaits pick-up with this code here."))
        elif request.method == "POST" and "put_aside" in request.POST:
            try:
                pickup.mark_ready_for_pickup(
                    order_id=found.order_id, actor=Actor.from_user(request.user)
                )
            except DomainError as refused:
                form.add_error(None, str(refused.message))
            else:
                model_admin.message_user(
                    request, gettext("Put aside: the shopper has been told."), messages.SUCCESS
                )
                return HttpResponseRedirect(
                    reverse("admin:orders_pickup_desk") + f"?code={found.pickup_code}"
                )
        elif request.method == "POST" and "hand_over" in request.POST:
            try:
                order = pickup.hand_over(
                    store_id=found.store_id, code=code, actor=Actor.from_user(request.user)
                )
            except DomainError as refused:
                form.add_error(None, str(refused.message))
            else:
                model_admin.message_user(
                    request,
                    gettext("Order %(number)s handed over.")
                    % {"number": selectors.display_number(order.number)},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:orders_pickup_desk"))
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": gettext("Pick-up desk"),
        "form": form,
        "found": found,
        "ready": found is not None and found.state == domain.READY_FOR_PICKUP,
        "can_put_aside": found is not None and found.state == domain.ALLOCATED,
        # What waits on the shelf, nearest deadline first: whom to call before it is too late.
        "shelf": selectors.list_waiting_pickups(store_ids=store_ids) if found is None else [],
        "soon": clock.now() + timedelta(days=1),
    }
    return TemplateResponse(request, DESK_TEMPLATE, context)
