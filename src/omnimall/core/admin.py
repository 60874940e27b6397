"""Back office for core: the audit trail (read-only), API keys, and the audited-admin base.

``AuditedAdminMixin`` routes every save and delete an admin page makes (the object, its
inlines, the bulk delete action) through an audited write with the staff member as actor
and the optional "reason for this change" typed into the form.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.db import models, transaction
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone
from django.utils.functional import lazy
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from . import api_keys, audit, shopper_tokens
from .actors import Actor
from .audit_labels import action_label
from .models import ApiKey, AuditEntry, ShopperToken
from .shop import shop_name

if TYPE_CHECKING:
    from datetime import datetime

    from django.db.models import QuerySet
    from django.http import HttpRequest

CHANGE_REASON = "change_reason"
ACTION_PATTERN = re.compile(r"[\w.:-]{1,80}")


class ChangeReasonFormMixin(forms.Form):
    """Adds the optional, non-model "reason for this change" field to a (model) form."""

    change_reason = forms.CharField(
        label=_("Reason for this change"),
        required=False,
        max_length=500,
        widget=forms.TextInput(attrs={"size": 80}),
        help_text=_("Optional. Kept in the audit trail with who changed what, and when."),
    )


class ChangeReasonForm(ChangeReasonFormMixin, forms.ModelForm):
    pass


def change_reason_of(form: forms.BaseForm | None) -> str:
    if form is None or not hasattr(form, "cleaned_data"):
        return ""
    return str(form.cleaned_data.get(CHANGE_REASON) or "").strip()


def _save_with_audit(*, instance: models.Model, actor: Actor, reason: str) -> None:
    # For models whose app has no write service for admin edits yet (sales channels,
    # stock locations): the row and its audit entry in one transaction.
    with transaction.atomic():
        audit.save_with_audit(instance=instance, actor=actor, reason=reason)


def _delete_with_audit(*, instance: models.Model, actor: Actor, reason: str) -> None:
    with transaction.atomic():
        audit.delete_with_audit(instance=instance, actor=actor, reason=reason)


def _without_field(fieldsets: Any, name: str) -> list[Any]:
    result = []
    for title, options in fieldsets:
        fields = [f for f in options.get("fields", ()) if f != name]
        if fields:
            result.append((title, {**options, "fields": fields}))
    return result


def _has_field(fieldsets: Any, name: str) -> bool:
    return any(
        name == field or (isinstance(field, list | tuple) and name in field)
        for _title, options in fieldsets
        for field in options.get("fields", ())
    )


class AuditedAdminMixin:
    """Every admin write goes through ``audited_save`` / ``audited_delete``.

    Subclasses for apps with write services override those two to call them (the catalog
    calls ``catalog.services.save_audited``); the default writes a generic audit entry.
    """

    form: type[forms.ModelForm] = ChangeReasonForm

    def audited_save(self, *, instance: models.Model, actor: Actor, reason: str) -> None:
        _save_with_audit(instance=instance, actor=actor, reason=reason)

    def audited_delete(self, *, instance: models.Model, actor: Actor, reason: str) -> None:
        _delete_with_audit(instance=instance, actor=actor, reason=reason)

    def get_fieldsets(self, request: HttpRequest, obj: models.Model | None = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)  # type: ignore[misc]
        if obj is not None and not self.has_change_permission(request, obj):  # type: ignore[attr-defined]
            return _without_field(fieldsets, CHANGE_REASON)  # view-only: nothing to explain
        if not _has_field(fieldsets, CHANGE_REASON):
            return [*fieldsets, (_("Audit trail"), {"fields": [CHANGE_REASON]})]
        return fieldsets

    def save_model(
        self, request: HttpRequest, obj: models.Model, form: forms.ModelForm, change: bool
    ) -> None:
        if change and not (set(form.changed_data) - {CHANGE_REASON}):
            return  # nothing changed on the object itself (maybe only in its inlines)
        self.audited_save(
            instance=obj, actor=Actor.from_user(request.user), reason=change_reason_of(form)
        )

    def delete_model(self, request: HttpRequest, obj: models.Model) -> None:
        self.audited_delete(instance=obj, actor=Actor.from_user(request.user), reason="")

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        actor = Actor.from_user(request.user)
        model = queryset.model
        with transaction.atomic():
            for obj in queryset.order_by("pk"):
                # A tree node's earlier deletion may already have taken this one with it.
                if model._default_manager.filter(pk=obj.pk).exists():
                    self.audited_delete(instance=obj, actor=actor, reason="")

    def save_formset(
        self, request: HttpRequest, form: forms.ModelForm, formset: Any, change: bool
    ) -> None:
        actor = Actor.from_user(request.user)
        reason = change_reason_of(form)
        instances = formset.save(commit=False)
        for obj in formset.deleted_objects:
            self.audited_delete(instance=obj, actor=actor, reason=reason)
        for obj in instances:
            self.audited_save(instance=obj, actor=actor, reason=reason)
        formset.save_m2m()


def local_time(value: datetime | None) -> str:
    """A moment as the admin shows a date-time field (shop time, the language's format).

    For ``@admin.display`` methods: the admin prints their return value with ``str()``,
    which would show a date-time in UTC with microseconds.
    """
    if value is None:
        return "-"
    return str(formats.localize(timezone.localtime(value)))


class ReadOnlyAdminMixin:
    """Nothing is added, changed or deleted by hand (a model admin or an inline)."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _back_office_title() -> str:
    return gettext("%(shop)s back office") % {"shop": shop_name()}


# Lazy: read per request, in the staff member's language.
admin.site.site_header = admin.site.site_title = lazy(_back_office_title, str)()
admin.site.index_title = _("Catalog, prices, stock and the audit trail")


# --- the audit trail -------------------------------------------------------------------


def _display(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


class ActionFilter(admin.SimpleListFilter):
    title = _("action")
    parameter_name = "action"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        actions = AuditEntry.objects.order_by("action").values_list("action", flat=True).distinct()
        return [(action, action_label(action)) for action in actions[:200]]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if not value:
            return queryset
        if not ACTION_PATTERN.fullmatch(value):
            return queryset.none()  # never send junk (a NUL byte…) to the database
        return queryset.filter(action=value)


class ActorKindFilter(admin.SimpleListFilter):
    title = _("actor kind")
    parameter_name = "actor_kind"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [
            ("user", _("staff user")),
            ("api_key", _("integration (API key)")),
            ("system", _("system")),
            ("anonymous", _("anonymous")),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if not value:
            return queryset
        if value not in {"user", "api_key", "system", "anonymous"}:
            return queryset.none()
        return queryset.filter(actor_kind=value)


# How the audit trail names the subjects of models whose ``__str__`` shows row ids (the
# entry keeps that text as ``subject_repr``). An app's admin registers, per
# ``(app_label, model)``, a function from subject ids to labels (one query for a page),
# e.g. inventory: stock level ``124@1: 52 on hand, 0 reserved`` → ``TEE-M @ Shanghai``.
SubjectLabels = Callable[[list[str]], dict[str, str]]
SUBJECT_LABELS: dict[tuple[str, str], SubjectLabels] = {}


def _label_subjects(entries: list[AuditEntry]) -> None:
    """Set ``subject_label`` on the entries whose subject's app registered labels."""
    wanted: dict[tuple[str, str], list[AuditEntry]] = {}
    for entry in entries:
        kind = entry.subject_type
        if kind is not None and (kind.app_label, kind.model) in SUBJECT_LABELS:
            wanted.setdefault((kind.app_label, kind.model), []).append(entry)
    for key, group in wanted.items():
        labels = SUBJECT_LABELS[key](sorted({entry.subject_id for entry in group}))
        for entry in group:
            entry.subject_label = labels.get(entry.subject_id)  # type: ignore[attr-defined]


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """An immutable log: nobody adds, edits or deletes entries here, superusers included."""

    list_display = ("created_at", "actor_label", "action_shown", "subject_link", "short_reason")
    # Plain filters: their choices come from the small content-type table and an indexed
    # column, never from a DISTINCT scan of the (ever-growing) log itself.
    list_filter = (ActionFilter, ActorKindFilter, "subject_type")
    date_hierarchy = "created_at"
    search_fields = ("actor_label", "subject_repr", "reason")
    list_select_related = ("subject_type",)
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    list_per_page = 50
    fields = (
        "created_at",
        "actor_label",
        "actor_kind",
        "action_shown",
        "subject_link",
        "reason",
        "changes_table",
    )
    readonly_fields = fields

    def get_changelist_instance(self, request: HttpRequest) -> Any:
        changelist = super().get_changelist_instance(request)
        _label_subjects(list(changelist.result_list))
        return changelist

    @admin.display(description=_("subject"))
    def subject_link(self, entry: AuditEntry) -> str:
        if entry.subject_type is None:
            return entry.subject_repr or "—"
        if not hasattr(entry, "subject_label"):  # one entry's page
            _label_subjects([entry])
        shown = getattr(entry, "subject_label", None) or entry.subject_repr
        kind = entry.subject_type.model
        try:
            url = reverse(
                f"admin:{entry.subject_type.app_label}_{kind}_change", args=[entry.subject_id]
            )
        except NoReverseMatch:
            return f"{kind}: {shown}"
        return format_html('{}: <a href="{}">{}</a>', kind, url, shown)

    @admin.display(description=_("action"), ordering="action")
    def action_shown(self, entry: AuditEntry) -> str:
        """In the staff member's language, the stored code beside it for searches and
        integrations."""
        return format_html(
            '{} <code class="audit-action">{}</code>', action_label(entry.action), entry.action
        )

    @admin.display(description=_("reason"))
    def short_reason(self, entry: AuditEntry) -> str:
        return entry.reason if len(entry.reason) <= 80 else f"{entry.reason[:79]}…"

    @admin.display(description=_("what changed"))
    def changes_table(self, entry: AuditEntry) -> str:
        changes = entry.changes or {}
        if not changes:
            return "—"
        rows = []
        for field, value in sorted(changes.items()):
            if isinstance(value, list | tuple) and len(value) == 2:
                before, after = value
            else:  # a free-form detail ({"scopes": [...]}) rather than a before/after pair
                before, after = None, value
            rows.append((field, _display(before), _display(after)))
        body = format_html_join("", "<tr><th>{}</th><td>{}</td><td>{}</td></tr>", rows)
        return format_html(
            '<table class="audit-changes"><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr>'
            "</thead><tbody>{}</tbody></table>",
            _("field"),
            _("before"),
            _("after"),
            body,
        )


# --- API keys --------------------------------------------------------------------------

SCOPE_CHOICES = [(scope, scope) for scope in api_keys.KNOWN_SCOPES]


class ApiKeyCreateForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        label=_("scopes"), choices=SCOPE_CHOICES, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = ApiKey
        fields = ("name", "scopes", "bound_to")


class ApiKeyChangeForm(ChangeReasonFormMixin, forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        label=_("scopes"), choices=SCOPE_CHOICES, widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = ApiKey
        fields = ("name", "scopes", "bound_to", "is_active")


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are created here and their secret shown once; they are deactivated, not deleted."""

    list_display = ("name", "prefix", "scope_list", "bound_to", "is_active", "last_used_at")
    list_filter = ("is_active",)
    search_fields = ("name", "prefix", "bound_to")
    actions = ("deactivate_selected",)

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        kwargs["form"] = ApiKeyChangeForm if obj is not None else ApiKeyCreateForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ("name", "scopes", "bound_to")
        shown = ("name", "prefix", "scopes", "bound_to", "is_active", "created_at", "last_used_at")
        # The reason field only where the user may change the key.
        return (*shown, CHANGE_REASON) if self.has_change_permission(request, obj) else shown

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return () if obj is None else ("prefix", "created_at", "last_used_at")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("scopes"))
    def scope_list(self, key: ApiKey) -> str:
        return ", ".join(key.scopes or [])

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        actor = Actor.from_user(request.user)
        data = form.cleaned_data
        if change:
            api_keys.update_api_key(
                key=obj,
                actor=actor,
                name=data["name"],
                scopes=list(data["scopes"]),
                bound_to=data["bound_to"],
                is_active=data["is_active"],
                reason=change_reason_of(form),
            )
            return
        issued = api_keys.create_api_key(
            name=data["name"], scopes=list(data["scopes"]), actor=actor, bound_to=data["bound_to"]
        )
        # The admin goes on with ``obj`` (log entry, redirect): make it the created row.
        for field in ApiKey._meta.concrete_fields:
            setattr(obj, field.attname, getattr(issued.key, field.attname))
        obj._state.adding = False
        obj._state.db = issued.key._state.db
        messages.warning(
            request,
            format_html(
                "{} <code class='api-key-secret'>{}</code>",
                _("Copy this API key now; it is shown only this once:"),
                issued.token,
            ),
        )

    @admin.action(description=_("Deactivate selected API keys"), permissions=["change"])
    def deactivate_selected(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        count = api_keys.deactivate_api_keys(
            key_ids=list(queryset.values_list("pk", flat=True)),
            actor=Actor.from_user(request.user),
        )
        messages.success(request, _("%(count)d API key(s) deactivated.") % {"count": count})


@admin.register(ShopperToken)
class ShopperTokenAdmin(admin.ModelAdmin):
    """Shoppers' apps signed in (Store API tokens). Nothing is edited; deleting one signs
    that device out at once (a lost phone), with an entry in the audit trail."""

    list_display = ("user", "device", "created_at", "last_used_at", "expires_at")
    list_select_related = ("user",)
    search_fields = ("=user__email", "device", "=prefix")
    search_help_text = _("A shopper's exact email address, a device name, or a token prefix.")
    date_hierarchy = "last_used_at"
    fields = ("user", "device", "prefix", "created_at", "last_used_at", "expires_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: ShopperToken) -> None:
        shopper_tokens.revoke(record=obj, actor=Actor.from_user(request.user))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[ShopperToken]) -> None:
        actor = Actor.from_user(request.user)
        for record in queryset.select_related("user"):
            shopper_tokens.revoke(record=record, actor=actor)


from . import outbox_admin  # noqa: E402, F401 - registers the outbox and webhook admins
