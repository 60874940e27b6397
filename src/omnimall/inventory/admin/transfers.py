"""Transfers in the back office: create one with its lines, dispatch, receive, cancel.

Every step calls ``inventory.services.transfers`` (which writes the movements and the audit
entries). Store staff see the transfers that touch one of their stores; they may dispatch
only from their store, receive only into it, and cancel one that touches it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Sum
from django.http import Http404, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from omnimall.core.actors import Actor
from omnimall.core.admin import ReadOnlyAdminMixin
from omnimall.core.errors import DomainError
from omnimall.inventory.errors import InsufficientStockError, TransferStateError
from omnimall.inventory.models import Transfer, TransferLine, TransferState
from omnimall.inventory.services import transfers as transfer_services

from .filters import LocationFilter
from .forms import CancelTransferForm, TransferForm
from .labels import location_name
from .pages import error_text, form_page
from .scope import LocationScope, scope_of

if TYPE_CHECKING:
    from django.db.models import QuerySet
    from django.http import HttpRequest, HttpResponse


class SourceFilter(LocationFilter):
    title = _("from")
    parameter_name = "source"
    field = "source_id"


class DestinationFilter(LocationFilter):
    title = _("to")
    parameter_name = "destination"
    field = "destination_id"


class TransferLineInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = TransferLine
    fields = ("sku_code", "product_name", "quantity")
    readonly_fields = fields
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[TransferLine]:
        return super().get_queryset(request).select_related("sku__product")

    @admin.display(description=_("SKU"))
    def sku_code(self, line: TransferLine) -> str:
        return line.sku.code

    @admin.display(description=_("product"))
    def product_name(self, line: TransferLine) -> str:
        return line.sku.product.name_en


# What each step needs: which end of the transfer must be the user's, and from which states.
STEPS: dict[str, tuple[str, tuple[str, ...]]] = {
    "dispatch": ("source", (TransferState.DRAFT,)),
    "receive": ("destination", (TransferState.IN_TRANSIT,)),
    "cancel": ("either", (TransferState.DRAFT, TransferState.IN_TRANSIT)),
}


def may_step(scope: LocationScope, transfer: Transfer, step: str) -> bool:
    end, _states = STEPS[step]
    if end == "source":
        return scope.allows(transfer.source_id)
    if end == "destination":
        return scope.allows(transfer.destination_id)
    return scope.allows(transfer.source_id) or scope.allows(transfer.destination_id)


def _route(transfer: Transfer) -> str:
    """``East China distribution centre → Shanghai Nanjing Road``."""
    return f"{location_name(transfer.source)} → {location_name(transfer.destination)}"


def _units(transfer: Transfer) -> int:
    total = getattr(transfer, "unit_total", None)  # annotated by TransferAdmin.get_queryset
    if total is None:
        total = sum(transfer.lines.values_list("quantity", flat=True))
    return int(total)


def step_done_text(transfer: Transfer, step: str, *, was: str) -> str:
    """What a step did, naming the transfer, its units and its locations."""
    units = _units(transfer)
    names = {
        "n": transfer.number,
        "units": units,
        "source": location_name(transfer.source),
        "destination": location_name(transfer.destination),
    }
    if step == "dispatch":
        text = ngettext(
            "Transfer %(n)s dispatched: %(units)d unit left %(source)s for %(destination)s.",
            "Transfer %(n)s dispatched: %(units)d units left %(source)s for %(destination)s.",
            units,
        )
    elif step == "receive":
        text = ngettext(
            "Transfer %(n)s received: %(units)d unit from %(source)s is in stock at "
            "%(destination)s.",
            "Transfer %(n)s received: %(units)d units from %(source)s are in stock at "
            "%(destination)s.",
            units,
        )
    elif was == TransferState.IN_TRANSIT:
        text = ngettext(
            "Transfer %(n)s cancelled: its %(units)d unit in transit is back at %(source)s.",
            "Transfer %(n)s cancelled: its %(units)d units in transit are back at %(source)s.",
            units,
        )
    else:
        text = gettext("Transfer %(n)s cancelled (it was a draft: no stock had moved).")
    return text % names


def step_refused_text(exc: DomainError, transfer: Transfer, step: str) -> str:
    """Why a step was refused, with SKU codes and location names (the service's error
    carries their row ids)."""
    if isinstance(exc, InsufficientStockError):
        codes = dict(transfer.lines.values_list("sku_id", "sku__code"))
        short = "; ".join(
            gettext("%(sku)s: %(requested)d wanted, %(available)d available")
            % {
                "sku": codes.get(shortage.sku_id, shortage.sku_id),
                "requested": shortage.requested,
                "available": shortage.available,
            }
            for shortage in exc.shortages
        )
        return gettext("Not enough stock at %(location)s for transfer %(n)s: %(lines)s.") % {
            "location": location_name(transfer.source),
            "n": transfer.number,
            "lines": short,
        }
    if isinstance(exc, TransferStateError):
        state = str(exc.details.get("state") or transfer.state)
        names = {
            "n": transfer.number,
            "state": TransferState(state).label if state in TransferState.values else state,
        }
        refusals = {
            "dispatch": gettext("Transfer %(n)s is %(state)s: only a draft can be dispatched."),
            "receive": gettext(
                "Transfer %(n)s is %(state)s: only a transfer in transit can be received."
            ),
            "cancel": gettext("Transfer %(n)s is %(state)s: it can no longer be cancelled."),
        }
        return refusals[step] % names
    return f"{transfer.number}: {error_text(exc)}"


@admin.register(Transfer)
class TransferAdmin(admin.ModelAdmin):
    list_display = (
        "number",
        "source",
        "destination",
        "state",
        "line_count",
        "units",
        "created_by",
        "created_at",
        "dispatched_at",
        "received_at",
    )
    list_select_related = ("source", "destination")
    list_filter = ("state", SourceFilter, DestinationFilter)
    search_fields = ("^number",)
    search_help_text = _("Transfer number, or its beginning.")
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    inlines = (TransferLineInline,)
    actions = ("dispatch_selected", "receive_selected")
    fields = (
        "number",
        ("source", "destination"),
        "state",
        "note",
        "created_by",
        ("created_at", "dispatched_at", "received_at", "cancelled_at"),
    )
    readonly_fields = (
        "number",
        "source",
        "destination",
        "state",
        "note",
        "created_by",
        "created_at",
        "dispatched_at",
        "received_at",
        "cancelled_at",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Transfer]:
        queryset = (
            super()
            .get_queryset(request)
            .select_related("source", "destination")
            .annotate(line_total=Count("lines"), unit_total=Sum("lines__quantity"))
        )
        return scope_of(request).narrow(queryset, "source_id", "destination_id")

    # The transfer's own fields change only through the workflow steps below.
    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_workflow_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("inventory.change_transfer")

    @admin.display(description=_("lines"), ordering="line_total")
    def line_count(self, transfer: Transfer) -> int:
        return int(transfer.line_total)  # type: ignore[attr-defined]

    @admin.display(description=_("units"), ordering="unit_total")
    def units(self, transfer: Transfer) -> int:
        return int(transfer.unit_total or 0)  # type: ignore[attr-defined]

    # -- creating

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        scope = scope_of(request)
        form = TransferForm(request.POST if request.method == "POST" else None, scope=scope)
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            try:
                transfer = transfer_services.create_transfer(
                    source_id=data["source"].pk,
                    destination_id=data["destination"].pk,
                    lines=data["lines"],
                    actor=Actor.from_user(request.user),
                    note=data["note"],
                )
            except DomainError as exc:
                form.add_error(None, error_text(exc))
            else:
                messages.success(request, gettext("Transfer %(n)s created.") % {"n": transfer})
                return HttpResponseRedirect(
                    reverse("admin:inventory_transfer_change", args=[transfer.pk])
                )
        return form_page(
            request,
            model_admin=self,
            title=gettext("New transfer"),
            form=form,
            submit_label=gettext("Create transfer"),
            intro=gettext(
                "Creates a draft. Dispatching it takes the units off the source; receiving "
                "it adds them at the destination."
            ),
        )

    # -- the workflow

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        steps: list[tuple[str, str]] = []
        transfer = (
            self.get_queryset(request).filter(pk=object_id).first() if object_id.isdigit() else None
        )
        if transfer is not None and self.has_workflow_permission(request):
            scope = scope_of(request)
            labels = {
                "dispatch": gettext("Dispatch"),
                "receive": gettext("Receive"),
                "cancel": gettext("Cancel transfer"),
            }
            steps = [
                (step, labels[step])
                for step, (_end, states) in STEPS.items()
                if transfer.state in states and may_step(scope, transfer, step)
            ]
        extra = {"transfer_steps": steps, **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra)

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            *(
                path(
                    f"<int:transfer_id>/{step}/",
                    view(self.step_view),
                    {"step": step},
                    name=f"inventory_transfer_{step}",
                )
                for step in STEPS
            ),
            *super().get_urls(),
        ]

    def _run_step(self, request: HttpRequest, transfer: Transfer, step: str, reason: str) -> None:
        actor = Actor.from_user(request.user)
        if step == "dispatch":
            transfer_services.dispatch_transfer(transfer_id=transfer.pk, actor=actor)
        elif step == "receive":
            transfer_services.receive_transfer(transfer_id=transfer.pk, actor=actor)
        else:
            transfer_services.cancel_transfer(transfer_id=transfer.pk, actor=actor, reason=reason)

    def step_view(self, request: HttpRequest, transfer_id: int, step: str) -> HttpResponse:
        """Confirm (GET) and run (POST) one step: dispatch, receive or cancel."""
        if step not in STEPS:
            raise Http404
        if not self.has_workflow_permission(request):
            raise PermissionDenied
        transfer = self.get_queryset(request).filter(pk=transfer_id).first()
        if transfer is None:
            raise Http404
        if not may_step(scope_of(request), transfer, step):
            raise PermissionDenied(gettext("You do not work at this end of the transfer."))
        posted = request.POST if request.method == "POST" else None
        form: forms.Form = CancelTransferForm(posted) if step == "cancel" else forms.Form(posted)
        url = reverse("admin:inventory_transfer_change", args=[transfer.pk])
        if form.is_bound and form.is_valid():
            was = transfer.state
            try:
                self._run_step(request, transfer, step, form.cleaned_data.get("reason", ""))
            except DomainError as exc:
                form.add_error(None, step_refused_text(exc, transfer, step))
            else:
                messages.success(request, step_done_text(transfer, step, was=was))
                return HttpResponseRedirect(url)
        titles = {
            "dispatch": gettext("Dispatch transfer %(n)s"),
            "receive": gettext("Receive transfer %(n)s"),
            "cancel": gettext("Cancel transfer %(n)s"),
        }
        lines = transfer.lines.select_related("sku").order_by("pk")
        return form_page(
            request,
            model_admin=self,
            title=titles[step] % {"n": transfer},
            form=form,
            submit_label=gettext("Confirm"),
            intro=_route(transfer),
            objects=[f"{line.sku.code} × {line.quantity}" for line in lines],
            extra={"original": transfer},
        )

    # -- the same steps on several transfers from the list

    def _step_each(self, request: HttpRequest, queryset: QuerySet[Transfer], step: str) -> None:
        scope = scope_of(request)
        done: list[Transfer] = []
        for transfer in queryset.order_by("pk"):
            if not may_step(scope, transfer, step):
                messages.error(
                    request,
                    gettext("%(n)s: you do not work at this end of the transfer.")
                    % {"n": transfer},
                )
                continue
            try:
                self._run_step(request, transfer, step, "")
            except DomainError as exc:
                messages.error(request, step_refused_text(exc, transfer, step))
            else:
                done.append(transfer)
        if done:
            listed = ", ".join(f"{t.number} ({_route(t)})" for t in done)
            text = (
                ngettext(
                    "%(count)d transfer dispatched: %(transfers)s.",
                    "%(count)d transfers dispatched: %(transfers)s.",
                    len(done),
                )
                if step == "dispatch"
                else ngettext(
                    "%(count)d transfer received: %(transfers)s.",
                    "%(count)d transfers received: %(transfers)s.",
                    len(done),
                )
            )
            messages.success(request, text % {"count": len(done), "transfers": listed})

    @admin.action(description=_("Dispatch the selected transfers"), permissions=["workflow"])
    def dispatch_selected(self, request: HttpRequest, queryset: QuerySet[Transfer]) -> None:
        self._step_each(request, queryset, "dispatch")

    @admin.action(description=_("Receive the selected transfers"), permissions=["workflow"])
    def receive_selected(self, request: HttpRequest, queryset: QuerySet[Transfer]) -> None:
        self._step_each(request, queryset, "receive")
