from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.validators import URLValidator
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEntry(models.Model):
    """One change people or integrations made: who, when, what (before/after) and why."""

    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="audit_entries",
    )
    actor_kind = models.CharField(_("actor kind"), max_length=20)
    actor_label = models.CharField(_("who"), max_length=150)
    action = models.CharField(_("action"), max_length=80, db_index=True)
    subject_type = models.ForeignKey(
        ContentType,
        verbose_name=_("subject type"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    subject_id = models.CharField(_("subject id"), max_length=64, blank=True)
    subject_repr = models.CharField(_("subject"), max_length=255, blank=True)
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit trail")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["subject_type", "subject_id"], name="audit_subject_idx")]

    def __str__(self) -> str:
        return (
            f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.subject_repr}"
        )


class ApiKey(models.Model):
    """A credential for one integration (a store's POS, a WMS, a partner).

    Only a SHA-256 hash of the secret is stored; the secret is shown once, at creation.
    """

    name = models.CharField(_("name"), max_length=120)
    prefix = models.CharField(_("prefix"), max_length=16, unique=True)
    hashed_secret = models.CharField(max_length=64)
    scopes = models.JSONField(_("scopes"), default=list, blank=True)
    # What the key is bound to, e.g. a store's location code for a POS key.
    bound_to = models.CharField(_("bound to"), max_length=64, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class ShopperToken(models.Model):
    """An app's sign-in for one shopper on one device (``Authorization: Bearer``).

    Only a SHA-256 hash of the secret is kept. ``auth_hash`` is the user's session hash
    when the token was issued (Django's ``get_session_auth_hash``, derived from the
    password hash): a changed or reset password signs every app out, as it signs out
    every browser session. Deleting the row signs the device out.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("shopper"),
        on_delete=models.CASCADE,
        related_name="app_tokens",
    )
    prefix = models.CharField(_("prefix"), max_length=16, unique=True)
    hashed_secret = models.CharField(max_length=64)
    auth_hash = models.CharField(max_length=128)
    device = models.CharField(_("device"), max_length=80, blank=True)
    created_at = models.DateTimeField(_("signed in"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"))
    expires_at = models.DateTimeField(_("expires"))

    class Meta:
        verbose_name = _("app sign-in")
        verbose_name_plural = _("app sign-ins")
        ordering = ["-last_used_at", "-id"]

    def __str__(self) -> str:
        return f"{self.device or self.prefix} ({self.prefix}…)"


class CacheVersion(models.Model):
    """A counter per cache namespace, bumped when what the namespace caches changes.

    Kept in the database (not the cache) so every worker process sees a bump at once,
    even with a per-process local-memory cache.
    """

    namespace = models.CharField(max_length=40, primary_key=True)
    version = models.PositiveBigIntegerField(default=1)

    class Meta:
        verbose_name = _("cache version")

    def __str__(self) -> str:
        return f"{self.namespace}={self.version}"


class IdempotencyKey(models.Model):
    """A retried write's key, stored in the same transaction as the write's effect.

    ``scope`` separates callers (one API key's keys never collide with another's);
    ``fingerprint`` is a hash of the request, so the same key with a different payload
    can be refused; ``response_*`` is what the first call returned, replayed verbatim.
    """

    scope = models.CharField(_("scope"), max_length=80)
    key = models.CharField(_("key"), max_length=200)
    fingerprint = models.CharField(_("request fingerprint"), max_length=64)
    response_status = models.PositiveSmallIntegerField(_("response status"), default=200)
    response_body = models.JSONField(_("response body"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="idempotencykey_scope_key_uniq")
        ]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key}"


# Deliveries are HTTP POSTs: an ftp:// address (which Django's URLField accepts) could only
# ever become a dead letter, so the form refuses it.
WEB_URL = URLValidator(schemes=["http", "https"])


class WebhookSubscription(models.Model):
    """An integration that wants order events POSTed to it, signed with its secret.

    The secret must be kept in clear: it signs every delivery (HMAC-SHA256), so the
    receiver can check the body came from us. ``topics`` lists event names such as
    ``order.paid``; ``["*"]`` subscribes to all.
    """

    name = models.CharField(_("name"), max_length=120)
    url = models.URLField(_("URL"), max_length=500, validators=[WEB_URL])
    secret = models.CharField(_("signing secret"), max_length=128)
    topics = models.JSONField(_("topics"), default=list, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook subscription")
        verbose_name_plural = _("webhook subscriptions")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class OutboxKind(models.TextChoices):
    WEBHOOK = "webhook", _("webhook")
    EMAIL = "email", _("email")
    # A payment gateway's asynchronous notification (the sandbox gateway plays the bank).
    GATEWAY_NOTIFICATION = "gateway_notification", _("gateway notification")
    SMS = "sms", _("text message")


class OutboxState(models.TextChoices):
    PENDING = "pending", _("pending")
    DELIVERED = "delivered", _("delivered")
    DEAD = "dead", _("dead letter")


class OutboxMessage(models.Model):
    """One message to one outside destination, written in the transaction that causes it.

    A worker delivers due messages (``next_attempt_at``) with exponential back-off; after
    the last attempt a message becomes a dead letter, listed in the back office where
    staff can retry it. ``dedupe_key`` (optional) makes enqueueing idempotent.
    """

    kind = models.CharField(_("kind"), max_length=30, choices=OutboxKind.choices)
    topic = models.CharField(_("topic"), max_length=80, db_index=True)
    destination = models.CharField(_("destination"), max_length=500)
    subscription = models.ForeignKey(
        WebhookSubscription,
        verbose_name=_("subscription"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="messages",
    )
    payload = models.JSONField(_("payload"), default=dict)
    dedupe_key = models.CharField(
        _("dedupe key"), max_length=200, unique=True, null=True, blank=True
    )
    state = models.CharField(
        _("state"), max_length=20, choices=OutboxState.choices, default=OutboxState.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    max_attempts = models.PositiveSmallIntegerField(_("max attempts"), default=8)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="outbox_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.topic} → {self.destination}"
