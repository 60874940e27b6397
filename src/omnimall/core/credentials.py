"""Bearer secrets shown once: ``<prefix>.<secret>``, of which only a hash is kept.

Integrations' API keys and shoppers' app tokens share the shape. The prefix finds the row
through its unique index; the secret is compared as a SHA-256 hash in constant time, so
a stolen database holds nothing that signs in.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass


@dataclass(frozen=True)
class NewSecret:
    prefix: str
    hashed_secret: str  # what the row keeps
    token: str  # "<prefix>.<secret>": handed out once, never stored


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret(*, prefix_bytes: int = 4) -> NewSecret:
    prefix = secrets.token_hex(prefix_bytes)
    secret = secrets.token_urlsafe(32)
    return NewSecret(prefix=prefix, hashed_secret=_hash(secret), token=f"{prefix}.{secret}")


def split(token: str) -> tuple[str, str] | None:
    """``(prefix, secret)`` of a well-formed token, else None."""
    prefix, _, secret = token.partition(".")
    # The prefix is hex we made: anything else (a NUL PostgreSQL refuses, say) finds nothing.
    if not (0 < len(prefix) <= 16 and prefix.isascii() and prefix.isalnum()) or not secret:
        return None
    return prefix, secret


def matches(hashed_secret: str, secret: str) -> bool:
    return hmac.compare_digest(hashed_secret, _hash(secret))
