"""Back office: points partners (credentials, rates), their transfers and the imported
statements' reconciliations.

A partner's secret is shown once, when the partner is created or its secret rotated;
it is stored only encrypted. Rates are dated: a new row applies from its day on, and
rows already entered are kept as they are (transfers were converted at them).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from omnimall.core.actors import Actor
from omnimall.core.admin import (
    CHANGE_REASON,
    ChangeReasonFormMixin,
    ReadOnlyAdminMixin,
    change_reason_of,
    local_time,
)
from omnimall.members.models import (
    Partner,
    PartnerRate,
    PartnerReconciliation,
    PartnerTransfer,
)
from omnimall.members.partners import services

from .points import member_search_term


class PartnerCreateForm(forms.ModelForm):
    outbound_url = forms.URLField(
        label=_("outbound URL"), required=False, max_length=200, assume_scheme="https"
    )

    class Meta:
        model = Partner
        fields = ("code", "name", "outbound_url", "inbound_daily_limit", "outbound_daily_limit")


class PartnerChangeForm(ChangeReasonFormMixin, forms.ModelForm):
    outbound_url = forms.URLField(
        label=_("outbound URL"), required=False, max_length=200, assume_scheme="https"
    )

    class Meta:
        model = Partner
        fields = (
            "name",
            "outbound_url",
            "inbound_daily_limit",
            "outbound_daily_limit",
            "is_active",
        )


class PartnerRateInline(admin.TabularInline):
    """New dated rates only; existing rows are history."""

    model = PartnerRate
    extra = 1
    fields = ("direction", "brand_points_per_partner_point", "valid_from")
    can_delete = False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _show_secret_once(request: HttpRequest, partner: Partner, secret: str) -> None:
    messages.warning(
        request,
        format_html(
            "{} {} <code class='partner-secret'>{}</code> {} <code>{}</code>",
            _("Copy this partner secret now; it is shown only this once."),
            _("Secret:"),
            secret,
            _("Key id:"),
            partner.key_id,
        ),
    )


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "key_id", "is_active", "outbound_url", "inbound_daily_limit")
    list_filter = ("is_active",)
    search_fields = ("code", "name", "key_id")
    inlines = (PartnerRateInline,)
    actions = ("rotate_secrets",)

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        kwargs["form"] = PartnerChangeForm if obj is not None else PartnerCreateForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return PartnerCreateForm.Meta.fields
        shown = ("code", "key_id", *PartnerChangeForm.Meta.fields, "created_at")
        return (*shown, CHANGE_REASON) if self.has_change_permission(request, obj) else shown

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return () if obj is None else ("code", "key_id", "created_at")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Partner, form: Any, change: bool) -> None:
        actor = Actor.from_user(request.user)
        data = form.cleaned_data
        if change:
            services.update_partner(
                partner_id=obj.pk,
                actor=actor,
                name=data["name"],
                outbound_url=data["outbound_url"],
                inbound_daily_limit=data["inbound_daily_limit"],
                outbound_daily_limit=data["outbound_daily_limit"],
                is_active=data["is_active"],
                reason=change_reason_of(form),
            )
            return
        partner, secret = services.create_partner(
            code=data["code"], name=data["name"], actor=actor, outbound_url=data["outbound_url"]
        )
        partner = services.update_partner(
            partner_id=partner.pk,
            actor=actor,
            name=partner.name,
            outbound_url=partner.outbound_url,
            inbound_daily_limit=data["inbound_daily_limit"],
            outbound_daily_limit=data["outbound_daily_limit"],
            is_active=True,
        )
        # The admin goes on with ``obj`` (log entry, inlines, redirect): the created row.
        for field in Partner._meta.concrete_fields:
            setattr(obj, field.attname, getattr(partner, field.attname))
        obj._state.adding = False
        obj._state.db = partner._state.db
        _show_secret_once(request, partner, secret)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not PartnerRate:  # pragma: no cover - the only inline
            super().save_formset(request, form, formset, change)
            return
        actor = Actor.from_user(request.user)
        # What the admin's change message reads (formset.save() is not called).
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for rate_form in formset.forms:
            data = getattr(rate_form, "cleaned_data", None)
            if not data or rate_form.instance.pk is not None or not rate_form.has_changed():
                continue
            rate = services.set_rate(
                partner_id=form.instance.pk,
                direction=data["direction"],
                rate=data["brand_points_per_partner_point"],
                valid_from=data["valid_from"],
                actor=actor,
            )
            formset.new_objects.append(rate)

    @admin.action(
        description=_("Rotate the secret of the selected partners"), permissions=["change"]
    )
    def rotate_secrets(self, request: HttpRequest, queryset: QuerySet[Partner]) -> None:
        actor = Actor.from_user(request.user)
        for partner_id in queryset.order_by("pk").values_list("pk", flat=True):
            partner, secret = services.rotate_secret(partner_id=partner_id, actor=actor)
            _show_secret_once(request, partner, secret)


@admin.register(PartnerTransfer)
class PartnerTransferAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "created_at",
        "partner_name",
        "direction",
        "transaction_id",
        "member_link",
        "partner_account",
        "partner_points",
        "brand_points",
        "state",
    )
    list_filter = ("partner", "direction", "state")
    search_fields = (
        "transaction_id",
        "partner_reference",
        "partner_account",
        "member__card_number",
        "member__phone",
    )
    search_help_text = _(
        "Transaction id, the partner's reference or account, or the member's card number or "
        "mobile (in any usual form)."
    )
    list_select_related = ("partner", "member")
    date_hierarchy = "created_at"
    readonly_fields = (
        "partner_name",
        "direction",
        "transaction_id",
        "member_link",
        "partner_account",
        "partner_points",
        "brand_points",
        "rate",
        "state",
        "hold_shown",
        "failure",
        "partner_reference",
        "created_at",
        "state_changed_at",
    )
    fields = readonly_fields

    # The model's foreign keys have no translated names, and its ``__str__`` reads
    # "<partner id> out <transaction id>": the page and the list use these instead.

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[PartnerTransfer], search_term: str
    ) -> tuple[QuerySet[PartnerTransfer], bool]:
        return super().get_search_results(request, queryset, member_search_term(search_term))

    @admin.display(description=_("Partner"), ordering="partner__name")
    def partner_name(self, transfer: PartnerTransfer) -> str:
        return transfer.partner.name

    @admin.display(description=_("Member"), ordering="member__card_number")
    def member_link(self, transfer: PartnerTransfer) -> str:
        url = reverse("admin:members_member_change", args=[transfer.member_id])
        return format_html('<a href="{}">{}</a>', url, str(transfer.member))

    @admin.display(description=_("state last changed"))
    def state_changed_at(self, transfer: PartnerTransfer) -> str:
        return local_time(transfer.updated_at)  # moved only with the state (confirm, fail)

    @admin.display(description=_("points hold"))
    def hold_shown(self, transfer: PartnerTransfer) -> str:
        hold = transfer.hold
        if hold is None:
            return "—"
        return f"{hold.points} · {hold.get_state_display()}"

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        transfer = self.get_object(request, object_id)
        context = dict(extra_context or {})
        if transfer is not None:
            context["subtitle"] = (
                f"{transfer.partner.name} · {transfer.get_direction_display()} · "
                f"{transfer.transaction_id}"
            )
        return super().change_view(request, object_id, form_url, context)


@admin.register(PartnerReconciliation)
class PartnerReconciliationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("day", "partner", "file_name", "matched", "mismatch_count", "created_at")
    list_filter = ("partner",)
    date_hierarchy = "day"
    readonly_fields = ("partner", "day", "file_name", "matched", "mismatch_table", "created_at")
    exclude = ("mismatches",)

    @admin.display(description=_("mismatches"))
    def mismatch_count(self, obj: PartnerReconciliation) -> int:
        return len(obj.mismatches or [])

    @admin.display(description=_("mismatches"))
    def mismatch_table(self, obj: PartnerReconciliation) -> str:
        rows = obj.mismatches or []
        if not rows:
            return str(_("none"))
        return format_html(
            "<table><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>"
            "</thead><tbody>{}</tbody></table>",
            _("direction"),
            _("transaction id"),
            _("problem"),
            _("ours"),
            _("theirs"),
            format_html_join_rows(rows),
        )


def format_html_join_rows(rows: list[dict[str, str]]) -> str:
    return format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        (
            (
                row.get("direction", ""),
                row.get("transaction_id", ""),
                row.get("problem", ""),
                row.get("ours", ""),
                row.get("theirs", ""),
            )
            for row in rows
        ),
    )
