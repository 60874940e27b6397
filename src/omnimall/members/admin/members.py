"""Back office: tiers and the member 360 view for customer service.

The member page shows everything about one person on one screen: profile and consent,
tier and the progress to the next, points balances and history (the ledger), purchases
from every channel with links to the online order or the till receipt, notes. Staff edit
the profile (saved through ``services.identity.update_member_profile``, audited), add
notes, and merge a duplicate into this member. Balances, phone and card are read-only:
points change only through the ledger (adjustments live with the points admin).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from omnimall.core.actors import Actor
from omnimall.core.errors import DomainError
from omnimall.members.domain import InvalidPhoneError, normalise_phone
from omnimall.members.models import Member, Tier
from omnimall.members.selectors import members as member_selectors
from omnimall.members.services import identity

if TYPE_CHECKING:
    from django.db.models import QuerySet
    from django.http import HttpRequest, HttpResponse

MANAGE = "members.change_member"
ADD_NOTE = "members.add_membernote"
PROFILE_FIELDS = ("name", "email", "home_store", "consent_sms", "consent_email", "consent_wechat")


def error_text(exc: DomainError) -> str:
    parts = [
        f"{key.replace('_', ' ')}: {value}"
        for key, value in exc.details.items()
        if isinstance(value, str | int) and not isinstance(value, bool)
    ]
    return f"{exc.message} ({'; '.join(parts)})" if parts else str(exc.message)


def merged_text(duplicate: Member, survivor: Member) -> str:
    """What a merge did: which member went into which, and the points that moved (the
    duplicate's balances as read before the merge: all of its ledger moves over)."""
    return gettext(
        "%(duplicate)s merged into %(survivor)s: its %(available)d available, %(pending)d "
        "pending and %(held)d held points moved over. %(duplicate_card)s stays, inactive; "
        "its card and mobile now find %(survivor_card)s."
    ) % {
        "duplicate": member_label(duplicate),
        "survivor": member_label(survivor),
        "available": duplicate.points_available,
        "pending": duplicate.points_pending,
        "held": duplicate.points_held,
        "duplicate_card": card_groups(duplicate),
        "survivor_card": card_groups(survivor),
    }


@admin.register(Tier)
class TierAdmin(admin.ModelAdmin):
    list_display = ("name_en", "name_zh", "code", "rank", "min_spend", "points_per_cny")
    ordering = ("rank",)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # members point at their tier; a tier is retired by raising min_spend


class MemberAddForm(forms.ModelForm):
    """Enrol a member at the counter or on the phone: the number is the key."""

    class Meta:
        model = Member
        fields = ("phone", "name", "email", "home_store")

    def clean_phone(self) -> str:
        try:
            return normalise_phone(self.cleaned_data["phone"])
        except InvalidPhoneError:
            raise forms.ValidationError(gettext("Enter a valid mobile number.")) from None

    def validate_unique(self) -> None:
        """``enrol_member`` is idempotent by phone: an existing member is opened instead."""


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Note"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3, "cols": 80})
    )


class MergeForm(forms.Form):
    duplicate = forms.CharField(
        label=_("Duplicate member's card number or mobile"),
        max_length=32,
        help_text=_("Its points, purchases, receipts and notes move to this member."),
    )
    reason = forms.CharField(
        label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 2, "cols": 80})
    )

    def __init__(self, *args: Any, survivor: Member, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.survivor = survivor

    def clean_duplicate(self) -> Member:
        text = self.cleaned_data["duplicate"].strip()
        typed = _typed_member(text)
        if typed is None:
            raise forms.ValidationError(gettext("No member with this card number or mobile."))
        if typed.pk == self.survivor.pk:
            raise forms.ValidationError(
                gettext("This is %(member)s's own card number or mobile.")
                % {"member": member_label(self.survivor)}
            )
        if typed.merged_into_id is not None:
            # The selector would answer with the member it was merged into: say so
            # instead of merging someone else than the member typed.
            into = Member.objects.filter(pk=typed.merged_into_id).first()
            raise forms.ValidationError(
                gettext("%(duplicate)s was already merged into %(survivor)s.")
                % {
                    "duplicate": member_label(typed),
                    "survivor": member_label(into) if into else "—",
                }
            )
        return typed


def card_groups(member: Member) -> str:
    """``1272 9421 6727``: the card number as it is read out."""
    return " ".join(member.card_number[i : i + 4] for i in range(0, len(member.card_number), 4))


def member_label(member: Member) -> str:
    """``1272 9421 6727 (Li Lei)``: the card, then the name (or the mobile)."""
    return f"{card_groups(member)} ({member.name or member.phone})"


def _typed_member(text: str) -> Member | None:
    """The member whose card or mobile was typed, even one already merged into another
    (``find_member`` answers with the surviving member)."""
    card = "".join(text.split())
    if card.isdigit() and len(card) == 12:
        found = Member.objects.filter(card_number=card).first()
        if found is not None:
            return found
    try:
        phone = normalise_phone(text)
    except InvalidPhoneError:
        return None
    return Member.objects.filter(phone=phone).first()


@admin.register(Member)
class MemberAdmin(admin.ModelAdmin):
    list_display = (
        "card_number",
        "name",
        "phone",
        "tier",
        "points_available",
        "points_pending",
        "rolling_spend",
        "home_store",
        "is_active",
        "created_at",
    )
    list_select_related = ("tier", "home_store")
    list_filter = ("tier", "is_active", "home_store")
    search_fields = ("=phone", "=card_number", "email", "name")
    search_help_text = _(
        "Mobile (in any usual form), card number (also in groups of four), email or name."
    )
    show_full_result_count = False
    change_form_template = "members/admin/member_change_form.html"
    readonly_fields = (
        "phone", "card_number", "tier", "rolling_spend", "tier_changed_at", "points_available",
        "points_held", "points_pending", "user", "joined_store", "merged_into", "is_active",
        "consent_updated_at", "created_at", "updated_at",
    )  # fmt: skip
    fieldsets = (
        (None, {"fields": ("card_number", "phone", "name", "email", "user", "is_active")}),
        (_("Stores"), {"fields": ("home_store", "joined_store", "merged_into")}),
        (
            _("Marketing consent"),
            {"fields": ("consent_sms", "consent_email", "consent_wechat", "consent_updated_at")},
        ),
        (
            _("Tier and points"),
            {
                "fields": (
                    "tier",
                    "rolling_spend",
                    "tier_changed_at",
                    "points_available",
                    "points_pending",
                    "points_held",
                )
            },
        ),
        (_("Record"), {"fields": ("created_at", "updated_at")}),
    )

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None:
            kwargs["form"] = MemberAddForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ((None, {"fields": ("phone", "name", "email", "home_store")}),)
        return self.fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return () if obj is None else self.readonly_fields

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "home_store":
            from omnimall.inventory.models import StockLocation

            kwargs["queryset"] = StockLocation.objects.filter(kind="store", is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Member], search_term: str
    ) -> tuple[QuerySet[Member], bool]:
        """A phone in any usual form and a card read out in groups are found too."""
        squeezed = "".join(search_term.split())
        if squeezed.isdigit() and len(squeezed) == 12:
            return queryset.filter(card_number=squeezed), False
        try:
            e164 = normalise_phone(search_term)
        except InvalidPhoneError:
            return super().get_search_results(request, queryset, search_term)
        return queryset.filter(phone=e164), False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a member's ledger is kept; duplicates are merged, not deleted

    def save_model(self, request: HttpRequest, obj: Member, form: Any, change: bool) -> None:
        actor = Actor.from_user(request.user)
        data = form.cleaned_data
        try:
            if not change:
                enrolled = identity.enrol_member(
                    phone=data["phone"],
                    actor=actor,
                    name=data.get("name") or "",
                    email=data.get("email") or "",
                    home_store_id=data["home_store"].pk if data.get("home_store") else None,
                )
                obj.pk = enrolled.pk
                return
            identity.update_member_profile(
                member_id=obj.pk,
                actor=actor,
                name=data.get("name", obj.name),
                email=data.get("email", obj.email),
                home_store_id=data["home_store"].pk if data.get("home_store") else None,
                consent={
                    "sms": data.get("consent_sms", False),
                    "email": data.get("consent_email", False),
                    "wechat": data.get("consent_wechat", False),
                },
            )
        except DomainError as refused:  # pragma: no cover - the form validated already
            self.message_user(request, error_text(refused), messages.ERROR)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Nothing related is edited here (and the service saved the member)."""

    # --- the 360 page ------------------------------------------------------------------

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        view = member_selectors.member_360(int(object_id)) if object_id.isdigit() else None
        context = {
            **(extra_context or {}),
            "view360": view,
            "can_manage": request.user.has_perm(MANAGE),
            "can_add_note": request.user.has_perm(ADD_NOTE),
            "note_form": NoteForm(),
        }
        return super().change_view(request, object_id, form_url, extra_context=context)

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view
        return [
            path("<int:member_id>/note/", view(self.note_view), name="members_member_note"),
            path("<int:member_id>/merge/", view(self.merge_view), name="members_member_merge"),
            *super().get_urls(),
        ]

    def _member_or_404(self, request: HttpRequest, member_id: int, perm: str) -> Member:
        member = Member.objects.filter(pk=member_id).first()
        if member is None:
            raise Http404
        if not request.user.has_perm(perm):
            raise PermissionDenied
        return member

    def _back(self, member: Member) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:members_member_change", args=[member.pk]))

    def _form_page(
        self, request: HttpRequest, *, member: Member, title: str, form: forms.Form, submit: str
    ) -> TemplateResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "original": member,
            "form": form,
            "submit_label": submit,
        }
        return TemplateResponse(request, "members/admin/member_form.html", context)

    def note_view(self, request: HttpRequest, member_id: int) -> HttpResponse:
        member = self._member_or_404(request, member_id, ADD_NOTE)
        form = NoteForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                identity.add_member_note(
                    member_id=member.pk,
                    text=form.cleaned_data["text"],
                    actor=Actor.from_user(request.user),
                )
            except DomainError as refused:
                form.add_error(None, error_text(refused))
            else:
                self.message_user(request, gettext("Note added."), messages.SUCCESS)
                return self._back(member)
        return self._form_page(
            request, member=member, title=gettext("Add a note"), form=form, submit=gettext("Add")
        )

    def merge_view(self, request: HttpRequest, member_id: int) -> HttpResponse:
        """Merge a duplicate (found by card or phone) into this member, with a reason."""
        member = self._member_or_404(request, member_id, MANAGE)
        form = MergeForm(request.POST or None, survivor=member)
        if request.method == "POST" and form.is_valid():
            duplicate = form.cleaned_data["duplicate"]
            try:
                identity.merge_members(
                    survivor_id=member.pk,
                    duplicate_id=duplicate.pk,
                    actor=Actor.from_user(request.user),
                    reason=form.cleaned_data["reason"],
                )
            except DomainError as refused:
                form.add_error(None, error_text(refused))
            else:
                self.message_user(request, merged_text(duplicate, member), messages.SUCCESS)
                return self._back(member)
        title = gettext("Merge a duplicate into %(member)s") % {"member": member_label(member)}
        return self._form_page(
            request, member=member, title=title, form=form, submit=gettext("Merge")
        )
