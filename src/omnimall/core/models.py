from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
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
