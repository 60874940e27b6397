"""Back office for the outbox: messages (dead letters first in mind) and webhook
subscriptions. Messages are read-only; staff retry them (audited) from the list or the
message page. Subscriptions are created and edited here, every change audited."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from . import outbox
from .actors import Actor
from .admin import AuditedAdminMixin, ChangeReasonFormMixin
from .models import OutboxKind, OutboxMessage, OutboxState, WebhookSubscription

if TYPE_CHECKING:
    from django.db.models import Model, QuerySet
    from django.http import HttpRequest, HttpResponse

TOPIC_PATTERN = re.compile(r"[\w.*:-]{1,80}")
DEAD_LETTERS_QUERY = f"?state__exact={OutboxState.DEAD}"


class TopicFilter(admin.SimpleListFilter):
    title = _("topic")
    parameter_name = "topic"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        # ``topic`` is indexed: the distinct values come from the index, not a table scan.
        topics = OutboxMessage.objects.order_by("topic").values_list("topic", flat=True)
        return [(topic, topic) for topic in topics.distinct()[:200]]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if not value:
            return queryset
        if not TOPIC_PATTERN.fullmatch(value):
            return queryset.none()
        return queryset.filter(topic=value)


def _pretty(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True)


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    """Read-only messages; "Retry delivery" puts dead letters back in line."""

    list_display = (
        "id",
        "created_at",
        "kind",
        "topic",
        "short_destination",
        "state_label",
        "attempt_count",
        "next_attempt_at",
        "delivered_at",
    )
    list_filter = ("state", "kind", TopicFilter, "subscription")
    list_select_related = ("subscription",)
    search_fields = ("destination", "topic", "=dedupe_key")
    search_help_text = _("Email address or URL it was queued for, topic, or exact dedupe key.")
    show_full_result_count = False
    list_per_page = 50
    actions = ("retry_delivery",)
    fields = (
        "kind",
        "topic",
        "state_label",
        "queued_for",
        "delivery_address",
        "subscription",
        "attempt_count",
        "next_attempt_at",
        "created_at",
        "delivered_at",
        "dedupe_key",
        "last_error_text",
        "payload_text",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # nothing is lost: a message is delivered or stays a dead letter

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The page of one message is read-only; "change" is the right to retry.
        return obj is None and super().has_change_permission(request)

    def may_retry(self, request: HttpRequest) -> bool:
        return super().has_change_permission(request)

    def get_urls(self) -> list[Any]:
        retry = self.admin_site.admin_view(require_POST(self.retry_view))
        return [
            path("<int:message_id>/retry/", retry, name="core_outboxmessage_retry"),
            *super().get_urls(),
        ]

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        counts = outbox.outbox_counts()
        showing_dead = request.GET.get("state__exact") == OutboxState.DEAD
        context = {
            "dead_count": counts.dead,
            "pending_count": counts.pending,
            "dead_letters_url": reverse("admin:core_outboxmessage_changelist") + DEAD_LETTERS_QUERY,
            "pending_url": reverse("admin:core_outboxmessage_changelist")
            + f"?state__exact={OutboxState.PENDING}",
            "title": gettext("Dead letters") if showing_dead else gettext("Outbox"),
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra_context=context)

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        message = self.get_object(request, object_id)
        can_retry = (
            message is not None
            and message.state != OutboxState.DELIVERED
            and self.may_retry(request)
        )
        context: dict[str, Any] = {"can_retry": can_retry, **(extra_context or {})}
        if message is not None:  # the title, not __str__ (the URL when queued, as "→")
            context["subtitle"] = self.message_label(message)
        return super().change_view(request, object_id, form_url, extra_context=context)

    def message_label(self, message: OutboxMessage) -> str:
        """``order.paid → ERP order feed`` (webhooks by their subscription's name)."""
        if message.kind == OutboxKind.WEBHOOK and message.subscription is not None:
            return f"{message.topic} → {message.subscription.name}"
        return f"{message.topic} → {message.destination}"

    def retry_view(self, request: HttpRequest, message_id: int) -> HttpResponse:
        if not self.may_retry(request):
            raise PermissionDenied
        if not OutboxMessage.objects.filter(pk=message_id).exists():
            raise Http404
        count = outbox.retry_messages(message_ids=[message_id], actor=Actor.from_user(request.user))
        if count:
            messages.success(request, gettext("The message is queued for delivery again."))
        else:
            messages.warning(request, gettext("This message was already delivered."))
        return HttpResponseRedirect(reverse("admin:core_outboxmessage_change", args=[message_id]))

    @admin.action(description=_("Retry delivery"), permissions=["change"])
    def retry_delivery(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> None:
        count = outbox.retry_messages(
            message_ids=list(queryset.values_list("pk", flat=True)),
            actor=Actor.from_user(request.user),
        )
        messages.success(
            request,
            ngettext(
                "%(count)d message queued for delivery again.",
                "%(count)d messages queued for delivery again.",
                count,
            )
            % {"count": count},
        )

    # ``destination`` is written when the message is queued. Emails and gateway
    # notifications go exactly there; a webhook is POSTed to its subscription's URL *at
    # each attempt* (``transports.send_webhook``), and no attempt records that URL. So
    # the field is labelled for what it is, and the page says where delivery goes.

    @admin.display(description=_("queued for"), ordering="destination")
    def short_destination(self, message: OutboxMessage) -> str:
        text = message.destination
        return text if len(text) <= 60 else f"{text[:59]}…"

    @admin.display(description=_("queued for"))
    def queued_for(self, message: OutboxMessage) -> str:
        return message.destination

    @admin.display(description=_("delivery address"))
    def delivery_address(self, message: OutboxMessage) -> str:
        if message.kind != OutboxKind.WEBHOOK:
            return gettext("The address it was queued for (above).")
        subscription = message.subscription
        if subscription is None:
            return gettext("None: the webhook subscription was deleted.")
        changed = subscription.url != message.destination
        if message.state != OutboxState.DELIVERED:
            return format_html(
                "{} <code>{}</code>{}",
                gettext("The next attempt goes to the subscription's current URL:"),
                subscription.url,
                gettext(" (changed since the message was queued).") if changed else "",
            )
        if not changed:
            return gettext(
                "The subscription's URL, the same when queued and now (the URL each attempt "
                "used is not recorded)."
            )
        return format_html(
            "{} <code>{}</code>.",
            gettext(
                "Not recorded: a webhook is sent to its subscription's URL at the time of "
                "each attempt, and that URL has changed since this message was queued; "
                "it is now"
            ),
            subscription.url,
        )

    @admin.display(description=_("state"), ordering="state")
    def state_label(self, message: OutboxMessage) -> str:
        # Coloured by core/admin.css (a dead letter in the admin's error colour, which
        # Django sets for its light and dark themes alike).
        return format_html(
            '<strong class="outbox-state-{}">{}</strong>',
            message.state,
            message.get_state_display(),
        )

    @admin.display(description=_("attempts"), ordering="attempts")
    def attempt_count(self, message: OutboxMessage) -> str:
        return f"{message.attempts}/{message.max_attempts}"

    @admin.display(description=_("last error"))
    def last_error_text(self, message: OutboxMessage) -> str:
        if not message.last_error:
            return "—"
        earlier = (
            gettext("From an earlier attempt; a later one delivered the message.")
            if message.state == OutboxState.DELIVERED
            else ""
        )
        return format_html(
            '{}<pre style="white-space:pre-wrap">{}</pre>', earlier, message.last_error
        )

    @admin.display(description=_("payload"))
    def payload_text(self, message: OutboxMessage) -> str:
        return format_html('<pre style="white-space:pre-wrap">{}</pre>', _pretty(message.payload))


# --- webhook subscriptions -------------------------------------------------------------

TOPIC_CHOICES = [
    (outbox.ALL_TOPICS, _("all topics (*)")),
    *((topic, topic) for topic in outbox.KNOWN_TOPICS),
]


class WebhookSubscriptionForm(ChangeReasonFormMixin, forms.ModelForm):
    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")
    topics = forms.MultipleChoiceField(
        label=_("topics"), choices=TOPIC_CHOICES, widget=forms.CheckboxSelectMultiple
    )
    secret = forms.CharField(
        label=_("signing secret"),
        required=False,
        max_length=128,
        widget=forms.TextInput(attrs={"size": 70, "autocomplete": "off"}),
        help_text=_(
            "Signs every delivery (HMAC-SHA256, header X-Omnimall-Signature); give it to "
            "the receiver. Leave blank to generate a new random one."
        ),
    )

    class Meta:
        model = WebhookSubscription
        fields = ("name", "url", "topics", "secret", "is_active")

    def clean_secret(self) -> str:
        return str(self.cleaned_data.get("secret") or "").strip() or outbox.new_secret()

    def clean_topics(self) -> list[str]:
        topics = list(self.cleaned_data.get("topics") or [])
        return [outbox.ALL_TOPICS] if outbox.ALL_TOPICS in topics else topics


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(AuditedAdminMixin, admin.ModelAdmin):
    form = WebhookSubscriptionForm
    list_display = ("name", "url", "topic_list", "is_active", "pending_count", "dead_count")
    list_filter = ("is_active",)
    search_fields = ("name", "url")
    actions = ("send_test_event",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[WebhookSubscription]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                pending_messages=Count("messages", filter=Q(messages__state=OutboxState.PENDING)),
                dead_messages=Count("messages", filter=Q(messages__state=OutboxState.DEAD)),
            )
        )

    def audited_save(self, *, instance: Model, actor: Actor, reason: str) -> None:
        assert isinstance(instance, WebhookSubscription)  # noqa: S101 - narrows the type
        outbox.save_subscription(subscription=instance, actor=actor, reason=reason)

    def audited_delete(self, *, instance: Model, actor: Actor, reason: str) -> None:
        assert isinstance(instance, WebhookSubscription)  # noqa: S101 - narrows the type
        outbox.delete_subscription(subscription=instance, actor=actor, reason=reason)

    @admin.display(description=_("topics"))
    def topic_list(self, subscription: WebhookSubscription) -> str:
        return ", ".join(subscription.topics or [])

    @admin.display(description=_("pending"))
    def pending_count(self, subscription: WebhookSubscription) -> int:
        return int(getattr(subscription, "pending_messages", 0))

    @admin.display(description=_("dead letters"))
    def dead_count(self, subscription: WebhookSubscription) -> str:
        count = int(getattr(subscription, "dead_messages", 0))
        if not count:
            return "0"
        url = reverse("admin:core_outboxmessage_changelist")
        return format_html(
            '<a href="{}{}&subscription__id__exact={}">{}</a>',
            url,
            DEAD_LETTERS_QUERY,
            subscription.pk,
            count,
        )

    @admin.action(description=_("Send a test event"), permissions=["change"])
    def send_test_event(
        self, request: HttpRequest, queryset: QuerySet[WebhookSubscription]
    ) -> None:
        actor = Actor.from_user(request.user)
        ids = list(queryset.order_by("pk").values_list("pk", flat=True))
        for subscription_id in ids:
            outbox.send_test_event(subscription_id=subscription_id, actor=actor)
        messages.success(
            request,
            ngettext(
                "A %(topic)s event is queued for %(count)d subscription.",
                "A %(topic)s event is queued for %(count)d subscriptions.",
                len(ids),
            )
            % {"topic": outbox.TEST_TOPIC, "count": len(ids)},
        )
