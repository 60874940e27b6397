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
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from omnimall.core.actors import Actor
from omnimall.core.admin import ReadOnlyAdminMixin
from omnimall.core.errors import DomainError
from omnimall.inventory.models import Transfer, TransferLine, TransferState
from omnimall.inventory.services import transfers as transfer_services

from .filters import LocationFilter
from .forms import CancelTransferForm, TransferForm
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
            try:
                self._run_step(request, transfer, step, form.cleaned_data.get("reason", ""))
            except DomainError as exc:
                form.add_error(None, error_text(exc))
            else:
                done = {
                    "dispatch": gettext("Transfer %(n)s dispatched."),
                    "receive": gettext("Transfer %(n)s received."),
                    "cancel": gettext("Transfer %(n)s cancelled."),
                }
                messages.success(request, done[step] % {"n": transfer})
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
            intro=f"{transfer.source.code} → {transfer.destination.code}",
            objects=[f"{line.sku.code} × {line.quantity}" for line in lines],
            extra={"original": transfer},
        )

    # -- the same steps on several transfers from the list

    def _step_each(self, request: HttpRequest, queryset: QuerySet[Transfer], step: str) -> None:
        scope = scope_of(request)
        done = 0
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
                messages.error(request, f"{transfer}: {error_text(exc)}")
            else:
                done += 1
        if done:
            messages.success(request, gettext("%(n)d transfer(s) done.") % {"n": done})

    @admin.action(description=_("Dispatch the selected transfers"), permissions=["workflow"])
    def dispatch_selected(self, request: HttpRequest, queryset: QuerySet[Transfer]) -> None:
        self._step_each(request, queryset, "dispatch")

    @admin.action(description=_("Receive the selected transfers"), permissions=["workflow"])
    def receive_selected(self, request: HttpRequest, queryset: QuerySet[Transfer]) -> None:
        self._step_each(request, queryset, "receive")
