"""Back office: the points ledger (read-only), lots, holds, earning rules, the liability report.

- The ledger, lots and holds are never edited by hand. "Add points entry" is the one
  manual write: a staff adjustment (``adjust_points``) with a required reason, for staff
  with ``members.add_pointsentry`` (customer service).
- A hold stuck in ``held`` can be released by staff with ``members.change_pointshold``.
- The liability report (``/admin/members/pointsentry/liability/``, URL name
  ``admin:members_points_liability``): points outstanding (available + held + pending),
  their value in CNY, and the available points by the month they expire, as an SVG bar
  chart and a CSV export.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from omnimall.core.actors import Actor
from omnimall.core.admin import AuditedAdminMixin, ReadOnlyAdminMixin
from omnimall.core.errors import DomainError
from omnimall.members.domain import InvalidPhoneError, normalise_phone
from omnimall.members.models import EarnRule, Member, PointsEntry, PointsHold, PointsLot
from omnimall.members.selectors.members import find_member
from omnimall.members.selectors.points import Liability, LiabilityMonth, points_liability
from omnimall.members.services import points as points_services

if TYPE_CHECKING:
    from django.db.models import QuerySet
    from django.http import HttpRequest
    from django.urls import URLPattern

CARD_DIGITS = 12  # member card numbers (``services.identity.new_card_number``)
LIABILITY_TEMPLATE = "admin/members/points_liability.html"
ADJUST_TEMPLATE = "admin/members/points_adjust.html"
CHART_WIDTH, CHART_ROW, LABEL_WIDTH = 640, 22, 80


def _member_link(member: Member) -> str:
    try:
        url = reverse("admin:members_member_change", args=[member.pk])
    except NoReverseMatch:
        return str(member)
    return format_html('<a href="{}">{}</a>', url, member.card_number)


class MemberLinkMixin:
    @admin.display(description=_("member"), ordering="member__card_number")
    def member_link(self, obj: PointsEntry | PointsLot | PointsHold) -> str:
        return _member_link(obj.member)


def member_search_term(term: str) -> str:
    """A mobile in any usual form as stored (``+8613800138000``), a card read out in
    groups as one number; other text as typed. The admin splits a search on spaces and
    needs every word to match, so "138 0013 8000" found nothing in the exact fields."""
    squeezed = "".join(term.split())
    if squeezed.isdigit() and len(squeezed) == CARD_DIGITS:
        return squeezed
    try:
        return normalise_phone(term, region=settings.MEMBER_DEFAULT_REGION)
    except InvalidPhoneError:
        return term


class MemberSearchMixin(admin.ModelAdmin):
    """Lists searched by the member's card or mobile (``member__card_number``, ``…phone``)."""

    search_help_text = _(
        "Card number or mobile (in any usual form), or an exact reference, document or source key."
    )

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        return super().get_search_results(request, queryset, member_search_term(search_term))


# --- the ledger, with staff adjustments as its only manual write ------------------------------


class AdjustPointsForm(forms.Form):
    member = forms.CharField(
        label=_("Member"), max_length=32, help_text=_("Card number or mobile number.")
    )
    points = forms.IntegerField(
        label=_("Points"),
        help_text=_("Positive to add, negative to take away."),
        min_value=-points_services.MAX_ADJUSTMENT,
        max_value=points_services.MAX_ADJUSTMENT,
    )
    reason = forms.CharField(label=_("Reason"), max_length=500, widget=forms.Textarea)

    def clean_member(self) -> Member:
        typed = self.cleaned_data["member"].strip()
        try:
            digits = typed.replace(" ", "")
            found = find_member(card=typed) if digits.isdigit() and len(digits) == 12 else None
            found = found or find_member(phone=typed)
        except DomainError:
            found = None
        if found is None:
            raise forms.ValidationError(gettext("No member with this card or mobile number."))
        return found

    def clean_points(self) -> int:
        value = int(self.cleaned_data["points"])
        if value == 0:
            raise forms.ValidationError(gettext("Enter a number of points other than 0."))
        return value


@admin.register(PointsEntry)
class PointsEntryAdmin(MemberLinkMixin, MemberSearchMixin):
    list_display = (
        "created_at",
        "member_link",
        "kind",
        "available_delta",
        "held_delta",
        "pending_delta",
        "document",
        "source_key",
        "actor_label",
    )
    list_filter = ("kind", "actor_kind", "created_at")
    search_fields = ("=member__card_number", "=member__phone", "=source_key", "=document")
    list_select_related = ("member",)
    show_full_result_count = False
    readonly_fields = (
        "member",
        "kind",
        "available_delta",
        "held_delta",
        "pending_delta",
        "source_key",
        "document",
        "reason",
        "actor_kind",
        "actor_label",
        "related",
        "hold",
        "created_at",
    )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path("liability/", view(self.liability_view), name="members_points_liability"),
            *super().get_urls(),
        ]

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """ "Add points entry" is a staff adjustment through ``adjust_points``."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = AdjustPointsForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            member: Member = form.cleaned_data["member"]
            try:
                entry = points_services.adjust_points(
                    member_id=member.pk,
                    points=form.cleaned_data["points"],
                    reason=form.cleaned_data["reason"],
                    actor=Actor.from_user(request.user),
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(
                    request,
                    gettext("%(points)+d points for member %(card)s.")
                    % {"points": entry.available_delta, "card": member.card_number},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:members_pointsentry_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Adjust points"),
            "form": form,
        }
        return TemplateResponse(request, ADJUST_TEMPLATE, context)

    def liability_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        liability = points_liability()
        if request.GET.get("export") == "csv":
            return liability_csv(liability)
        title = gettext("Points liability")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "liability": liability,
            "chart": expiry_bars_svg(
                liability.months, title=gettext("Available points by expiry month")
            ),
        }
        return TemplateResponse(request, LIABILITY_TEMPLATE, context)


def expiry_bars_svg(months: Sequence[LiabilityMonth], *, title: str) -> SafeString:
    """Horizontal bars of available points per expiry month (drawn on the server)."""
    if not months:
        return format_html("<p>{}</p>", "—")
    inner = CHART_WIDTH - LABEL_WIDTH - 170
    top = max(max(m.points for m in months), 1)
    height = CHART_ROW * len(months) + 8
    rows: list[str] = []
    for i, month in enumerate(months):
        y = 4 + i * CHART_ROW
        width = inner * month.points / top
        rows.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{y + 14}" text-anchor="end" font-size="12">'
            f"{month.month:%Y-%m}</text>"
            f'<rect x="{LABEL_WIDTH}" y="{y + 3}" width="{width:.1f}" height="14" '
            f'fill="#417690"><title>{month.points}</title></rect>'
            f'<text x="{LABEL_WIDTH + width + 4:.1f}" y="{y + 14}" font-size="11">'
            f"{month.points} (¥{month.value})</text>"
        )
    svg = (
        f'<svg class="liability-chart" role="img" width="{CHART_WIDTH}" height="{height}" '
        f'viewBox="0 0 {CHART_WIDTH} {height}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>{''.join(rows)}</svg>"
    )
    return mark_safe(svg)  # the title is escaped; the rest are our numbers


def liability_csv(liability: Liability) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stamp = f"{liability.as_of:%Y-%m-%d}"
    response["Content-Disposition"] = f'attachment; filename="points-liability-{stamp}.csv"'
    writer = csv.writer(response)
    writer.writerow(["bucket", "points", "value_cny"])
    for month in liability.months:
        writer.writerow([f"available, expiring {month.month:%Y-%m}", month.points, month.value])
    writer.writerow(["available", liability.available, liability.available_value])
    writer.writerow(["held", liability.held, liability.held_value])
    writer.writerow(["pending", liability.pending, liability.pending_value])
    writer.writerow(["total", liability.points, liability.value])
    return response


# --- lots and holds (read-only) -------------------------------------------------------------


@admin.register(PointsLot)
class PointsLotAdmin(MemberLinkMixin, ReadOnlyAdminMixin, MemberSearchMixin):
    list_display = (
        "member_link",
        "points",
        "remaining",
        "available_at",
        "expires_at",
        "entry_document",
    )
    list_filter = ("expires_at",)
    search_fields = ("=member__card_number", "=member__phone")
    search_help_text = _("Card number or mobile (in any usual form).")
    list_select_related = ("member", "entry")
    show_full_result_count = False

    @admin.display(description=_("document"), ordering="entry__document")
    def entry_document(self, lot: PointsLot) -> str:
        """The purchase the lot's points were earned with (the entry's ``__str__`` is
        its deltas, "earn +373/+0/+0")."""
        return lot.entry.document or "—"


@admin.register(PointsHold)
class PointsHoldAdmin(MemberLinkMixin, ReadOnlyAdminMixin, MemberSearchMixin):
    list_display = (
        "created_at",
        "member_link",
        "purpose",
        "points",
        "state",
        "reference",
        "expires_at",
    )
    list_filter = ("state", "purpose")
    search_fields = ("=member__card_number", "=member__phone", "=reference", "=source_key")
    list_select_related = ("member",)
    actions = ("release_selected",)

    def has_release_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.has_perm("members.change_pointshold"))

    @admin.action(description=_("Release the selected holds"), permissions=["release"])
    def release_selected(self, request: HttpRequest, queryset: QuerySet[PointsHold]) -> None:
        actor = Actor.from_user(request.user)
        released = refused = 0
        for hold_id in queryset.filter(state="held").order_by("pk").values_list("pk", flat=True):
            try:
                points_services.release_hold(hold_id=hold_id, actor=actor, reason="staff")
            except DomainError:
                refused += 1
            else:
                released += 1
        self.message_user(
            request,
            ngettext("%(n)d hold released.", "%(n)d holds released.", released) % {"n": released},
            messages.SUCCESS if not refused else messages.WARNING,
        )


# --- earning rules --------------------------------------------------------------------------


@admin.register(EarnRule)
class EarnRuleAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = (
        "name",
        "kind",
        "category",
        "brand",
        "multiplier",
        "starts_on",
        "ends_on",
        "is_active",
    )
    list_filter = ("kind", "is_active")
    search_fields = ("name",)
    autocomplete_fields = ("category", "brand")
    list_select_related = ("category", "brand")
