"""API keys: creation (the secret shown once) and verification (constant-time hash compare)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from . import audit, clock, credentials
from .actors import Actor
from .models import ApiKey

KNOWN_SCOPES = (
    "catalog:read",
    "pos",
    "wms",
    "store",
    "partner",
    "webhooks",
    "invoices",
    "refunds",
)


@dataclass(frozen=True)
class IssuedKey:
    key: ApiKey
    token: str  # "<prefix>.<secret>"; shown once, never stored


@transaction.atomic
def create_api_key(*, name: str, scopes: list[str], actor: Actor, bound_to: str = "") -> IssuedKey:
    unknown = sorted(set(scopes) - set(KNOWN_SCOPES))
    if unknown:
        from .errors import ValidationFailedError

        raise ValidationFailedError("Unknown scopes.", unknown_scopes=unknown)
    new = credentials.new_secret()
    key = ApiKey.objects.create(
        name=name,
        prefix=new.prefix,
        hashed_secret=new.hashed_secret,
        scopes=scopes,
        bound_to=bound_to,
    )
    audit.record(actor=actor, action="api_key.created", subject=key, changes={"scopes": scopes})
    return IssuedKey(key=key, token=new.token)


def authenticate(token: str) -> ApiKey | None:
    """The active key for ``token``, or None. Touches ``last_used_at`` at most once a minute."""
    parts = credentials.split(token)
    if parts is None:
        return None
    prefix, secret = parts
    key = ApiKey.objects.filter(prefix=prefix, is_active=True).first()
    if key is None or not credentials.matches(key.hashed_secret, secret):
        return None
    now = clock.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key


@transaction.atomic
def update_api_key(
    *,
    key: ApiKey,
    actor: Actor,
    name: str,
    scopes: list[str],
    bound_to: str,
    is_active: bool,
    reason: str = "",
) -> ApiKey:
    """Change what a key may do (never its secret: issue a new key for that)."""
    unknown = sorted(set(scopes) - set(KNOWN_SCOPES))
    if unknown:
        from .errors import ValidationFailedError

        raise ValidationFailedError("Unknown scopes.", unknown_scopes=unknown)
    before = audit.snapshot(ApiKey.objects.select_for_update().get(pk=key.pk))
    key.name, key.scopes, key.bound_to, key.is_active = name, scopes, bound_to, is_active
    key.save(update_fields=["name", "scopes", "bound_to", "is_active"])
    changes = audit.diff(before, audit.snapshot(key))
    changes.pop("hashed_secret", None)
    if changes:
        audit.record(
            actor=actor, action="api_key.changed", subject=key, changes=changes, reason=reason
        )
    return key


@transaction.atomic
def deactivate_api_keys(*, key_ids: list[int], actor: Actor, reason: str = "") -> int:
    """Switch keys off (they stay listed, with their audit history). Returns how many."""
    keys = list(
        ApiKey.objects.select_for_update().filter(pk__in=key_ids, is_active=True).order_by("pk")
    )
    for key in keys:
        key.is_active = False
        key.save(update_fields=["is_active"])
        audit.record(
            actor=actor,
            action="api_key.deactivated",
            subject=key,
            changes={"is_active": [True, False]},
            reason=reason,
        )
    return len(keys)
