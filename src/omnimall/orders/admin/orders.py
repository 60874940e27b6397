"""Orders in the back office: list, read-only page with its timeline, and the actions.

Staff never edit an order's state or money: every button calls a service (cancel with
refund, confirm delivery, put aside for pick-up, resend the last email, add a note, change
the delivery address or the pick-up store), which moves the order through the state machine
and writes the timeline and audit.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.core.validators import MaxValueValidator
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from omnimall.checkout.forms import AddressForm
from omnimall.core.actors import Actor
from omnimall.core.admin import ReadOnlyAdminMixin, local_time
from omnimall.core.errors import DomainError
from omnimall.inventory.admin.slips import packing_slip_links
from omnimall.inventory.models import Shipment
from omnimall.inventory.selectors import carriers
from omnimall.members.domain import national_phone
from omnimall.orders import domain, selectors, texts
from omnimall.orders.forms import CollectorForm
from omnimall.orders.models import (
    SHOPPER_CANCEL_REASONS,
    DeliveryMethod,
    Order,
    OrderAllocation,
    OrderEvent,
    OrderEventKind,
    OrderLine,
    OrderState,
)
from omnimall.orders.selectors import display_number
from omnimall.orders.services import (
    attention,
    cancellation,
    collect_by,
    collector,
    fulfilment,
    pickup,
    pickup_store,
    readdress,
    refunds,
)
from omnimall.orders.services import messages as order_messages

from .cancellations import cancellation_report_urls
from .credit import credit_report_urls
from .export import order_export_urls
from .invoice_inline import InvoiceRequestInline
from .order_numbers import searched_order_number
from .pickup import pickup_desk_view
from .scope import narrow_orders

if TYPE_CHECKING:
    from django.db.models import QuerySet
    from django.http import HttpRequest, HttpResponse

FORM_TEMPLATE = "orders/admin/order_form.html"
MANAGE = "orders.change_order"
REFUND = "orders.refund_order"
PROBLEM_SHOWN = 90  # characters of a flagged order's problem in the list


def error_text(exc: DomainError) -> str:
    """The refusal with its plain figures; row ids left out, order states by their label."""
    parts = [
        f"{key.replace('_', ' ')}: {_state_label(value) if key in STATE_KEYS else value}"
        for key, value in exc.details.items()
        if isinstance(value, str | int)
        and not isinstance(value, bool)
        and key != "id"
        and not key.endswith("_id")
    ]
    return f"{exc.message} ({'; '.join(parts)})" if parts else str(exc.message)


STATE_KEYS = frozenset({"state", "target"})


def _state_label(state: object) -> str:
    text = str(state)
    return str(OrderState(text).label) if text in OrderState.values else text or "-"


def order_actions_for(order: Order) -> set[str]:
    """The action buttons that can work on this order (the services have the last word):
    cancel until something has left, confirm a shipped delivery, put an allocated pick-up
    aside, resend the last email, allocate a flagged order again."""
    possible = {"resend_email"}
    if attention.may_allocate_again(order):
        possible.add("allocate_again")
    if order.state in domain.STAFF_CANCELLABLE:
        possible.add("cancel_with_refund")
    if order.state == domain.SHIPPED:
        possible.add("mark_delivered")
    if order.delivery_method == DeliveryMethod.PICKUP and order.state == domain.ALLOCATED:
        possible.add("mark_ready_for_pickup")
    return possible


class _ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
    can_delete = False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The lines and the timeline are part of the order's page: whoever may see the
        # order sees them (logistics and store staff have no permissions on these rows).
        return bool(request.user.has_perm("orders.view_order"))


class OrderLineInline(_ReadOnlyInline):
    model = OrderLine
    fields = (
        "sku_code",
        "product_name",
        "variant",
        "unit_price",
        "quantity",
        "line_total",
        "quantity_returned",
    )
    readonly_fields = fields


class OrderEventInline(_ReadOnlyInline):
    model = OrderEvent
    verbose_name_plural = _("timeline")
    fields = (
        "created_at", "kind", "state_from_label", "state_to_label", "message_shown", "actor_label",
    )  # fmt: skip
    readonly_fields = fields
    ordering = ("created_at", "id")

    @admin.display(description=_("message"))
    def message_shown(self, event: OrderEvent) -> str:
        # Services write English (templates marked with gettext_noop, figures apart):
        # shown here in the staff member's language.
        return texts.event_text(event)

    @admin.display(description=_("from"))
    def state_from_label(self, event: OrderEvent) -> str:
        return _state_label(event.state_from)

    @admin.display(description=_("to"))
    def state_to_label(self, event: OrderEvent) -> str:
        return _state_label(event.state_to)


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 3})
    )
    # A shopper who calls to cancel gives their reason to customer service.
    why = forms.ChoiceField(
        label=_("The shopper's reason"),
        choices=[("", _("None: the shop cancels it"))]
        + [(reason.value, reason.label) for reason in SHOPPER_CANCEL_REASONS],
        required=False,
    )


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Note"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4})
    )


class RefundForm(forms.Form):
    """Part of what was paid, back to the shopper (``refunds.refund_order``). The refund
    number is chosen when the form is shown: submitting it twice refunds once."""

    amount = forms.DecimalField(
        label=_("Amount"), min_value=Decimal("0.01"), max_digits=12, decimal_places=2
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=refunds.MAX_REASON,
        help_text=_("The shopper sees it in the refund email (e.g. 'the sleeve was torn')."),
    )
    refund_no = forms.CharField(max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args: Any, order: Order, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial", {"refund_no": f"{order.number}-S{secrets.token_hex(4).upper()}"}
        )
        super().__init__(*args, **kwargs)
        refundable = order.amount_paid - order.amount_refunded
        field = cast(forms.DecimalField, self.fields["amount"])
        field.validators.append(MaxValueValidator(refundable))
        field.widget.attrs["max"] = str(refundable)
        field.help_text = gettext(
            "Up to %(amount)s %(currency)s: paid %(paid)s, refunded so far %(refunded)s."
        ) % {
            "amount": refundable,
            "currency": order.currency,
            "paid": order.amount_paid,
            "refunded": order.amount_refunded,
        }


class DealtWithForm(forms.Form):
    note = forms.CharField(
        label=_("What was done"),
        max_length=attention.NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("On the timeline for whoever reads the order next."),
    )


class StaffAddressForm(AddressForm):
    """The address form, and for staff who may give money back (``orders.refund_order``)
    the choice to let the shop pay for a dearer delivery (``readdress``'s ``shop_covers``)."""

    shop_covers = forms.BooleanField(
        label=_("The shop covers a higher delivery fee"),
        required=False,
        help_text=_(
            "Where delivery to the new address costs more than the shopper paid, the shop "
            "pays the difference (noted on the timeline) instead of refusing the change."
        ),
    )

    def __init__(self, *args: Any, may_cover: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not may_cover:
            del self.fields["shop_covers"]


class KeepUntilForm(forms.Form):
    """A later day for a pick-up waiting at its store (``collect_by.keep_until``)."""

    day = forms.DateField(
        label=_("Keep it until the end of"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args: Any, order: Order, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["day"]
        if order.collect_by is not None:
            now = timezone.localdate()
            field.widget.attrs["min"] = timezone.localdate(order.collect_by).isoformat()
            field.widget.attrs["max"] = (now + timedelta(days=collect_by.MAX_KEEP_DAYS)).isoformat()
            field.help_text = gettext(
                "Now until %(deadline)s; at most %(days)s days ahead. The shopper is emailed "
                "the new date."
            ) % {
                "deadline": collect_by.local_deadline(order.collect_by),
                "days": collect_by.MAX_KEEP_DAYS,
            }


class StoreForm(forms.Form):
    """The stores a pick-up order could move to (``selectors.list_other_pickup_stores``)."""

    store = forms.ChoiceField(label=_("Pick-up store"), widget=forms.RadioSelect)

    def __init__(self, *args: Any, stores: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.ChoiceField, self.fields["store"])
        field.choices = [(s.store.code, _store_choice(s)) for s in stores]
        if not stores:
            field.help_text = _("No other store holds everything in this order right now.")


def _store_choice(found: Any) -> str:
    store = found.store
    parts = [store.name, store.city_name, store.address]
    if found.distance_km is not None:
        parts.append(gettext("%(km)s km") % {"km": f"{found.distance_km:.1f}"})
    return " · ".join(p for p in parts if p)


@admin.register(Order)
class OrderAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """A read-only page: the actions below are the only way to change an order."""

    list_display = (
        "shown_number",
        "state",
        "total",
        "delivery_method",
        "credited_store",
        "needs_attention",
        "problem",
        "placed_at",
    )
    list_select_related = ("credited_store",)
    list_filter = (
        "state", "cancel_reason", "delivery_method", "needs_attention", "credited_store",
    )  # fmt: skip
    search_fields = ("=number", "phone", "email")
    search_help_text = _(
        "Order number (also as read out, '261127 482193'), or the shopper's phone or email."
    )
    show_full_result_count = False
    date_hierarchy = "placed_at"
    inlines = (OrderLineInline, InvoiceRequestInline, OrderEventInline)
    change_form_template = "orders/admin/order_change_form.html"
    change_list_template = "orders/admin/order_change_list.html"
    actions = (
        "cancel_with_refund",
        "mark_delivered",
        "mark_ready_for_pickup",
        "allocate_again",
        "resend_email",
    )
    readonly_fields = (
        "number", "state", "needs_attention", "user", "channel_code", "contact_name", "email",
        "phone", "delivery_method", "ship_to_address", "shopper_note", "pickup_store",
        "pickup_code_hint", "collector_name", "collector_phone", "credited_store",
        "credit_reason", "currency", "subtotal", "shipping", "total",
        "amount_paid", "amount_refunded", "held_until", "placed_at", "paid_at", "ready_at",
        "collect_by", "pickup_extended_at", "pickup_reminded_at", "closed_at", "cancel_reason",
        "payment_reminded_at", "allocations", "shipments", "points_used", "points_value",
        "points_earned",
    )  # fmt: skip
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "number",
                    "state",
                    "needs_attention",
                    "placed_at",
                    "closed_at",
                    "cancel_reason",
                )
            },
        ),
        (_("Shopper"), {"fields": ("user", "contact_name", "email", "phone", "channel_code")}),
        (
            _("Delivery"),
            {
                "fields": (
                    "delivery_method",
                    "ship_to_address",
                    "shopper_note",
                    "pickup_store",
                    "pickup_code_hint",
                    "collector_name",
                    "collector_phone",
                    "ready_at",
                    "collect_by",
                    "pickup_extended_at",
                    "pickup_reminded_at",
                    "shipments",
                )
            },
        ),
        (
            _("Money"),
            {
                "fields": (
                    "currency",
                    "subtotal",
                    "shipping",
                    "total",
                    "points_used",
                    "points_value",
                    "amount_paid",
                    "amount_refunded",
                    "points_earned",
                    "paid_at",
                    "held_until",
                    "payment_reminded_at",
                )
            },
        ),
        (_("Store credit"), {"fields": ("credited_store", "credit_reason")}),
        (_("Allocations"), {"fields": ("allocations",)}),
    )

    def get_inlines(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        return [OrderLineInline, InvoiceRequestInline, OrderEventInline]

    @admin.display(description=_("stock held for payment until"))
    def held_until(self, order: Order) -> str:
        # The checkout's hold is over once the order is paid or cancelled: showing its old
        # deadline on a paid order read as if the stock could still lapse.
        if order.state != OrderState.PENDING_PAYMENT or order.reserved_until is None:
            return "-"
        return local_time(order.reserved_until)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Order]:
        return narrow_orders(request, super().get_queryset(request))

    @admin.display(description=_("problem"))
    def problem(self, order: Order) -> str:
        """What the flag is about: the latest problem on the timeline (a query for each
        flagged row only; flagged orders are few)."""
        if not order.needs_attention:
            return ""
        event = (
            OrderEvent.objects.filter(order_id=order.pk, kind=OrderEventKind.PROBLEM)
            .order_by("-created_at", "-pk")
            .first()
        )
        return "" if event is None else texts.event_text(event)[:PROBLEM_SHOWN]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Order], search_term: str
    ) -> tuple[QuerySet[Order], bool]:
        number = searched_order_number(search_term)
        if number:
            return queryset.filter(number=number), False
        squeezed = "".join(search_term.split()).replace("-", "")
        if squeezed.startswith("+") and squeezed[1:].isdigit():
            # "+86 139 0000 1111" finds the order placed with 13900001111, as typed at checkout.
            search_term = national_phone(squeezed, region=settings.MEMBER_DEFAULT_REGION)
        return super().get_search_results(request, queryset, search_term)

    def has_manage_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm(MANAGE))

    @admin.display(description=_("pick-up code"))
    def pickup_code_hint(self, order: Order) -> str:
        """Only its last two digits: the code is the shopper's proof at the counter, and
        anyone who could read it here could hand the order over without them (the pick-up
        desk finds an order by the code the shopper shows). Two digits are enough for
        customer service to check a caller's code; the emails can be sent again."""
        code = order.pickup_code or ""
        if not code:
            return "—"
        return "•" * (len(code) - 2) + code[-2:]

    @admin.display(description=_("ship to"))
    def ship_to_address(self, order: Order) -> str:
        """The address as it is written on a parcel in China (name, phone, then province →
        street), not the stored JSON."""
        to = order.ship_to or {}
        if not to:
            return "—"
        place = " ".join(
            str(to.get(key) or "") for key in ("province", "city", "district", "street")
        )
        return format_html(
            "{} {}<br>{}{}",
            to.get("name", ""),
            to.get("phone", ""),
            place.strip(),
            f" {to['postal_code']}" if to.get("postal_code") else "",
        )

    @admin.display(description=_("where the units come from"))
    def allocations(self, order: Order) -> str:
        rows = (
            OrderAllocation.objects.filter(line__order=order)
            .select_related("line", "location", "reservation", "fulfilment_line__request")
            .order_by("pk")
        )
        return format_html(
            "<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>"
            "{}</table>",
            gettext("SKU"),
            gettext("location"),
            gettext("quantity"),
            gettext("hold"),
            gettext("fulfilment request"),
            gettext("live"),
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                (
                    (
                        row.line.sku_code,
                        row.location.code,
                        row.quantity,
                        row.reservation.state if row.reservation else "—",
                        (
                            f"{row.fulfilment_line.request.number} "
                            f"({row.fulfilment_line.request.state})"
                            if row.fulfilment_line
                            else "—"
                        ),
                        "✓" if row.is_live else "✗",
                    )
                    for row in rows
                ),
            ),
        )

    @admin.display(description=_("shipments"))
    def shipments(self, order: Order) -> str:
        """Each parcel with its carrier and a link to follow it, for "where is my parcel?"."""
        rows = Shipment.objects.filter(
            request__owner_type="order", request__owner_id=order.number
        ).order_by("shipped_at", "pk")
        if not rows:
            return "—"
        known = carriers.carrier_index()
        items = []
        for row in rows:
            label = carriers.label_for(row.carrier, row.tracking_number, known)
            tracking = (
                format_html('<a href="{}" rel="noopener noreferrer">{}</a>', label.tracking_url,
                            row.tracking_number)
                if label.tracking_url
                else row.tracking_number
            )  # fmt: skip
            items.append((local_time(row.shipped_at), label.name, tracking))
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{} · {} · {}</li>", items))

    @admin.display(description=_("order number"), ordering="number")
    def shown_number(self, order: Order) -> str:
        return display_number(order.number)

    # --- pages -----------------------------------------------------------------------

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        urls = [
            path(
                "pickup-desk/",
                view(self._pickup_desk),
                name="orders_pickup_desk",
            ),
            path("<int:order_id>/note/", view(self.note_view), name="orders_order_note"),
            path("<int:order_id>/address/", view(self.address_view), name="orders_order_address"),
            path("<int:order_id>/store/", view(self.store_view), name="orders_order_store"),
            path("<int:order_id>/refund/", view(self.refund_view), name="orders_order_refund"),
            path("<int:order_id>/keep/", view(self.keep_view), name="orders_order_keep"),
            path(
                "<int:order_id>/collector/",
                view(self.collector_view),
                name="orders_order_collector",
            ),
            path(
                "<int:order_id>/dealt-with/",
                view(self.dealt_with_view),
                name="orders_order_dealt_with",
            ),
            path(
                "<int:order_id>/act/<str:action>/",
                view(self.act_view),
                name="orders_order_act",
            ),
        ]
        return [
            *urls,
            *credit_report_urls(self),
            *cancellation_report_urls(self),
            *order_export_urls(self),
            *super().get_urls(),
        ]

    def _pickup_desk(self, request: HttpRequest) -> HttpResponse:
        return pickup_desk_view(request, model_admin=self)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        order = (
            self.get_queryset(request).filter(pk=object_id).first() if object_id.isdigit() else None
        )
        possible = order_actions_for(order) if order is not None else set()
        context = {
            **(extra_context or {}),
            "can_manage": self.has_manage_permission(request),
            "can_change_address": order is not None and readdress.may_readdress(order),
            "can_change_store": order is not None and pickup_store.may_change_store(order),
            "can_keep": order is not None and order.state == domain.READY_FOR_PICKUP,
            "can_set_collector": order is not None
            and domain.may_set_collector(order.delivery_method, order.state),
            "can_refund": order is not None
            and request.user.has_perm(REFUND)
            and order.amount_paid > order.amount_refunded,
            # One "Print packing slip" per request this staff member may print.
            "packing_slips": (
                packing_slip_links(request, order_number=order.number) if order else []
            ),
            "order_actions": [
                (name, getattr(self, name).short_description)
                for name in self.actions
                if name in possible
            ],
        }
        return super().change_view(request, object_id, form_url, extra_context=context)

    def _order_or_404(self, request: HttpRequest, order_id: int) -> Order:
        order = self.get_queryset(request).filter(pk=order_id).first()
        if order is None:
            raise Http404
        if not self.has_manage_permission(request):
            raise PermissionDenied
        return order

    def _form_page(
        self, request: HttpRequest, *, order: Order | None, title: str, form: forms.Form,
        submit: str, hidden: list[tuple[str, str]] | None = None, objects: list[Any] | None = None,
        province_list: bool = False,
    ) -> TemplateResponse:  # fmt: skip
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "original": order,
            "form": form,
            "submit_label": submit,
            "hidden": hidden or [],
            "objects": objects or [],
            "province_list": province_list,
        }
        return TemplateResponse(request, FORM_TEMPLATE, context)

    def _back(self, order: Order) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:orders_order_change", args=[order.pk]))

    def _refused(self, request: HttpRequest, order: Order, why: str) -> HttpResponseRedirect:
        """Back to the order saying why its state allows no such form."""
        self.message_user(request, why, messages.ERROR)
        return self._back(order)

    def _service_form(
        self,
        request: HttpRequest,
        order: Order,
        form: forms.Form,
        run: Callable[[dict[str, Any], Actor], object],
        *,
        done: str,
        title: str,
        submit: str,
        province_list: bool = False,
    ) -> HttpResponse:
        """The form page for one service call on the order. A valid POST runs
        ``run(cleaned_data, staff member)`` and goes back to the order saying ``done``; a
        refusal goes on the form (``add_refusal`` where the form places it by field) and
        nothing changes."""
        if request.method == "POST" and form.is_valid():
            try:
                run(form.cleaned_data, Actor.from_user(request.user))
            except DomainError as refused:
                add_refusal = getattr(form, "add_refusal", None)
                if add_refusal is not None:
                    add_refusal(refused, error_text(refused))
                else:
                    form.add_error(None, error_text(refused))
            else:
                self.message_user(request, done, messages.SUCCESS)
                return self._back(order)
        return self._form_page(
            request, order=order, title=title, form=form, submit=submit,
            province_list=province_list,
        )  # fmt: skip

    def note_view(self, request: HttpRequest, order_id: int) -> HttpResponse:
        order = self._order_or_404(request, order_id)
        form = NoteForm(request.POST or None)
        return self._service_form(
            request, order, form,
            lambda data, actor: order_messages.add_staff_note(
                order_id=order.pk, text=data["text"], actor=actor
            ),
            done=gettext("Note added."),
            title=gettext("Add a staff note"),
            submit=gettext("Add note"),
        )  # fmt: skip

    def address_view(self, request: HttpRequest, order_id: int) -> HttpResponse:
        """A new delivery address, for a shopper who calls customer service before the
        order is taken on: the shopper's own service (``readdress``), with the staff member
        as the actor; its refusals are shown on the form and nothing changes."""
        order = self._order_or_404(request, order_id)
        if not readdress.may_readdress(order):
            return self._refused(request, order, error_text(readdress.not_changeable(order)))
        form = StaffAddressForm(
            request.POST or None, initial=order.ship_to, may_cover=request.user.has_perm(REFUND)
        )
        return self._service_form(
            request, order, form,
            lambda data, actor: readdress.change_ship_to(
                order_id=order.pk, address=data, actor=actor,
                shop_covers=bool(data.get("shop_covers")),
            ),
            done=gettext("The order will be delivered to the new address."),
            title=gettext("Change the delivery address"),
            submit=gettext("Change the address"), province_list=True,
        )  # fmt: skip

    def store_view(self, request: HttpRequest, order_id: int) -> HttpResponse:
        """Another pick-up store, for a shopper who calls, or for an order its store
        refused: the shopper's own service (``pickup_store``), with the staff member as
        the actor; its refusals are shown on the form and nothing changes."""
        order = self._order_or_404(request, order_id)
        if not pickup_store.may_change_store(order):
            return self._refused(request, order, error_text(pickup_store.not_changeable(order)))
        stores = selectors.list_other_pickup_stores(selectors.get_order_by_id(order.pk))
        form = StoreForm(request.POST or None, stores=stores)
        return self._service_form(
            request, order, form,
            lambda data, actor: pickup_store.change_pickup_store(
                order_id=order.pk, store=data["store"], actor=actor
            ),
            done=gettext("The order will be picked up at the new store."),
            title=gettext("Change the pick-up store"),
            submit=gettext("Move to this store"),
        )  # fmt: skip

    def keep_view(self, request: HttpRequest, order_id: int) -> HttpResponse:
        """Keep a pick-up waiting at its store until a later day (the shopper called, or
        told the store): ``collect_by.keep_until``."""
        order = self._order_or_404(request, order_id)
        if order.state != domain.READY_FOR_PICKUP:
            why = gettext("Only a pick-up waiting at its store can be kept longer.")
            return self._refused(request, order, why)
        form = KeepUntilForm(request.POST or None, order=order)
        return self._service_form(
            request, order, form,
            lambda data, actor: collect_by.keep_until(
                order_id=order.pk, day=data["day"], actor=actor
            ),
            done=gettext("The store keeps the order longer; the shopper is emailed the date."),
            title=gettext("Keep the pick-up longer"),
            submit=gettext("Keep it"),
        )  # fmt: skip

    def collector_view(self, request: HttpRequest, order_id: int) -> HttpResponse:
        """Someone else collects the pick-up, for a shopper who calls the shop or the
        store: the shopper's own service (``collector``), the staff member as the actor."""
        order = self._order_or_404(request, order_id)
        if not domain.may_set_collector(order.delivery_method, order.state):
            why = gettext("Only a pick-up not yet collected can be collected by someone else.")
            return self._refused(request, order, why)
        initial = {"name": order.collector_name, "phone": order.collector_phone}
        form = CollectorForm(request.POST or None, initial=initial)
        return self._service_form(
            request, order, form,
            lambda data, actor: collector.set_collector(
                order_id=order.pk, name=data["name"], phone=data["phone"], actor=actor
            ),
            done=gettext("The pick-up desk will expect them; they get the code by text."),
            title=gettext("Someone else collects it"),
            submit=gettext("Save"),
        )  # fmt: skip

    def refund_view(self, request: HttpRequest, order_id: int) -> HttpResponse:
        """Refund part of what was paid, outside a cancellation or a return (a damaged item
        the shopper keeps, a late parcel): ``orders.refund_order`` only."""
        order = self._order_or_404(request, order_id)
        if not request.user.has_perm(REFUND):
            raise PermissionDenied
        refundable = order.amount_paid - order.amount_refunded
        if refundable <= 0:
            return self._refused(request, order, gettext("Nothing is left to refund."))
        form = RefundForm(request.POST or None, order=order)
        return self._service_form(
            request, order, form,
            lambda data, actor: refunds.refund_order(
                order_id=order.pk, amount=data["amount"], reason=data["reason"], actor=actor,
                refund_no=data["refund_no"],
            ),
            done=gettext("The refund is on its way to the shopper."),
            title=gettext("Refund part of the order"),
            submit=gettext("Refund"),
        )  # fmt: skip

    def dealt_with_view(self, request: HttpRequest, order_id: int) -> HttpResponse:
        """Lift the order's "needs attention" flag, saying what was done."""
        order = self._order_or_404(request, order_id)
        if not order.needs_attention:
            return self._back(order)
        form = DealtWithForm(request.POST or None)
        return self._service_form(
            request, order, form,
            lambda data, actor: attention.mark_dealt_with(
                order_id=order.pk, note=data["note"], actor=actor
            ),
            done=gettext("The order no longer needs attention."),
            title=gettext("Mark as dealt with"),
            submit=gettext("Mark as dealt with"),
        )  # fmt: skip

    def act_view(self, request: HttpRequest, order_id: int, action: str) -> HttpResponse:
        """One action on one order, from the buttons of its page."""
        order = self._order_or_404(request, order_id)
        if action not in self.actions:
            raise Http404
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        queryset = self.get_queryset(request).filter(pk=order.pk)
        response = getattr(self, action)(request, queryset)
        return response or self._back(order)

    # --- actions ---------------------------------------------------------------------

    def _each(
        self,
        request: HttpRequest,
        queryset: QuerySet[Order],
        call: Any,
        done: Callable[[int], str],
    ) -> None:
        """Run ``call`` on each order; ``done(count)`` is the message saying what was done,
        with ``%(count)d`` and ``%(orders)s`` (the order numbers, as read out)."""
        ok: list[str] = []
        for order in queryset.order_by("pk"):
            shown = display_number(order.number)
            try:
                call(order)
            except DomainError as refused:
                self.message_user(request, f"{shown}: {error_text(refused)}", messages.ERROR)
            else:
                ok.append(shown)
        if ok:
            text = done(len(ok)) % {
                "count": len(ok),
                "orders": ", ".join(ok),
            }
            self.message_user(request, text, messages.SUCCESS)

    @admin.action(description=_("Cancel (refunding what was paid)"), permissions=["manage"])
    def cancel_with_refund(
        self, request: HttpRequest, queryset: QuerySet[Order]
    ) -> HttpResponse | None:
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if "apply" in request.POST and form.is_valid():
            actor = Actor.from_user(request.user)
            reason, why = form.cleaned_data["reason"], form.cleaned_data["why"]
            self._each(
                request,
                queryset,
                lambda o: cancellation.cancel_order(
                    order_id=o.pk, actor=actor, reason=reason, by_shopper=False, why=why
                ),
                lambda n: ngettext(
                    "Order %(orders)s cancelled; what was paid is being refunded.",
                    "%(count)d orders cancelled; what was paid is being refunded: %(orders)s.",
                    n,
                ),
            )
            return None
        ids = list(queryset.values_list("pk", flat=True))
        return self._form_page(
            request,
            order=None,
            title=gettext("Cancel orders"),
            form=form,
            submit=gettext("Cancel and refund"),
            hidden=[
                ("action", "cancel_with_refund"),
                *((helpers.ACTION_CHECKBOX_NAME, str(i)) for i in ids),
            ],
            objects=[display_number(o.number) for o in queryset],
        )

    @admin.action(description=_("Confirm delivery"), permissions=["manage"])
    def mark_delivered(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        actor = Actor.from_user(request.user)
        self._each(
            request,
            queryset,
            lambda o: fulfilment.confirm_delivery(order_id=o.pk, actor=actor),
            lambda n: ngettext(
                "Order %(orders)s marked delivered.",
                "%(count)d orders marked delivered: %(orders)s.",
                n,
            ),
        )

    @admin.action(description=_("Put aside for pick-up (ready)"), permissions=["manage"])
    def mark_ready_for_pickup(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        actor = Actor.from_user(request.user)
        self._each(
            request,
            queryset,
            lambda o: pickup.mark_ready_for_pickup(order_id=o.pk, actor=actor),
            lambda n: ngettext(
                "Order %(orders)s put aside: ready for pick-up.",
                "%(count)d orders put aside, ready for pick-up: %(orders)s.",
                n,
            ),
        )

    @admin.action(description=_("Try allocating again (stock arrived)"), permissions=["manage"])
    def allocate_again(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        actor = Actor.from_user(request.user)
        self._each(
            request,
            queryset,
            lambda o: attention.allocate_again(order_id=o.pk, actor=actor),
            lambda n: ngettext(
                "Order %(orders)s allocated again: its fulfilment requests are sent.",
                "%(count)d orders allocated again, their fulfilment requests sent: %(orders)s.",
                n,
            ),
        )

    @admin.action(description=_("Send the last email again"), permissions=["manage"])
    def resend_email(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        actor = Actor.from_user(request.user)
        self._each(
            request,
            queryset,
            lambda o: order_messages.resend_last_email(order_id=o.pk, actor=actor),
            lambda n: ngettext(
                "The last email of order %(orders)s is queued again.",
                "The last emails of %(count)d orders are queued again: %(orders)s.",
                n,
            ),
        )
