"""API keys: creation (the secret shown once) and verification (constant-time hash compare)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.db import transaction

from . import audit, clock
from .actors import Actor
from .models import ApiKey

KNOWN_SCOPES = ("catalog:read", "pos", "wms", "store", "partner", "webhooks")


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


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
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        name=name, prefix=prefix, hashed_secret=_hash(secret), scopes=scopes, bound_to=bound_to
    )
    audit.record(actor=actor, action="api_key.created", subject=key, changes={"scopes": scopes})
    return IssuedKey(key=key, token=f"{prefix}.{secret}")


def authenticate(token: str) -> ApiKey | None:
    """The active key for ``token``, or None. Touches ``last_used_at`` at most once a minute."""
    prefix, _, secret = token.partition(".")
    if not prefix or not secret:
        return None
    key = ApiKey.objects.filter(prefix=prefix, is_active=True).first()
    if key is None or not hmac.compare_digest(key.hashed_secret, _hash(secret)):
        return None
    now = clock.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key
