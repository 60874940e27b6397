"""Shoppers' app sign-ins: the token an app sends as ``Authorization: Bearer <token>``.

A browser signs in with a session cookie; an app (iOS, Android, a mini-program) trades
the shopper's email and password for a token instead (``storefront.accounts.api``) and
sends it on every Store API call. A token stands for the shopper as a signed-in session
does. It lapses ``SHOPPER_TOKEN_DAYS`` after its last use (each use moves the date on,
written at most once an hour), on a password change or reset, when the account is
deactivated, and when the shopper or staff sign the device out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.crypto import constant_time_compare

from . import audit, clock, credentials
from .actors import Actor
from .models import ShopperToken

TOUCH_EVERY = timedelta(hours=1)
MAX_DEVICE_LENGTH = ShopperToken._meta.get_field("device").max_length or 80


@dataclass(frozen=True)
class IssuedToken:
    record: ShopperToken
    token: str  # shown once, never stored


def _lifetime() -> timedelta:
    return timedelta(days=settings.SHOPPER_TOKEN_DAYS)


def _device_name(raw: str) -> str:
    """The app's label for the device, as shown in lists: one line of printable text (a
    NUL, which PostgreSQL refuses to store, or a control character is dropped)."""
    text = "".join(ch for ch in raw if ch.isprintable() or ch.isspace())
    return " ".join(text.split())[:MAX_DEVICE_LENGTH]


@transaction.atomic
def issue(*, user: Any, device: str = "") -> IssuedToken:
    """A new token for ``user`` (already authenticated by the caller)."""
    new = credentials.new_secret(prefix_bytes=6)
    now = clock.now()
    record = ShopperToken.objects.create(
        user=user,
        prefix=new.prefix,
        hashed_secret=new.hashed_secret,
        auth_hash=user.get_session_auth_hash(),
        device=_device_name(device),
        last_used_at=now,
        expires_at=now + _lifetime(),
    )
    audit.record(
        actor=Actor.from_user(user),
        action="account.app_signed_in",
        subject=user,
        changes={"device": record.device, "token": record.prefix},
    )
    return IssuedToken(record=record, token=new.token)


def authenticate(token: str) -> ShopperToken | None:
    """The live token for ``token`` (its ``user`` loaded), or None: unknown, lapsed, from
    before a password change, or of a deactivated account."""
    parts = credentials.split(token)
    if parts is None:
        return None
    prefix, secret = parts
    record = ShopperToken.objects.select_related("user").filter(prefix=prefix).first()
    if record is None or not credentials.matches(record.hashed_secret, secret):
        return None
    now = clock.now()
    user = record.user
    if record.expires_at <= now or not user.is_active:
        return None
    if not constant_time_compare(record.auth_hash, user.get_session_auth_hash()):
        return None
    if now - record.last_used_at >= TOUCH_EVERY:
        record.last_used_at, record.expires_at = now, now + _lifetime()
        ShopperToken.objects.filter(pk=record.pk).update(
            last_used_at=record.last_used_at, expires_at=record.expires_at
        )
    return record


def live_for(user: Any) -> list[ShopperToken]:
    """The shopper's devices still signed in, most recently used first."""
    return list(
        ShopperToken.objects.filter(
            user=user, expires_at__gt=clock.now(), auth_hash=user.get_session_auth_hash()
        )
    )


def find_for(user: Any, token_id: int) -> ShopperToken | None:
    """One of the shopper's own sign-ins (None for another shopper's)."""
    return ShopperToken.objects.select_related("user").filter(pk=token_id, user=user).first()


@transaction.atomic
def revoke(*, record: ShopperToken, actor: Actor) -> None:
    """Sign the device out: the token stops working at once."""
    deleted, _ = ShopperToken.objects.filter(pk=record.pk).delete()
    if deleted:
        audit.record(
            actor=actor,
            action="account.app_signed_out",
            subject=record.user,
            changes={"device": record.device, "token": record.prefix},
        )


def purge_expired() -> int:
    """Delete lapsed tokens (nightly); returns how many. A token from before a password
    change stops working at once and goes when it lapses."""
    deleted, _ = ShopperToken.objects.filter(expires_at__lte=clock.now()).delete()
    return deleted
