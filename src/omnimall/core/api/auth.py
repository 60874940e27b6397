"""``ApiKeyAuth(scope=...)``: integration credentials for Ninja routes.

The key travels in the ``X-Api-Key`` header as ``<prefix>.<secret>``. A valid key without
the scope gets 403 (not 401): it is known, it just may not do this. The 403 names the
scopes that would do in ``details.required_scopes``, always a list (one type for
integrators, whether a route takes one scope or several).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja.security import APIKeyHeader
from ninja.utils import check_csrf

from omnimall.core import api_keys, shopper_tokens
from omnimall.core.actors import Actor
from omnimall.core.errors import DomainError, PermissionDeniedError
from omnimall.core.models import ApiKey

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class ApiKeyAuth(APIKeyHeader):
    """Accepts a key holding ``scope`` (or any of ``more_scopes``)."""

    param_name = "X-Api-Key"

    def __init__(self, scope: str, *more_scopes: str) -> None:
        self.scopes = (scope, *more_scopes)
        super().__init__()

    def authenticate(self, request: HttpRequest, key: str | None) -> ApiKey | None:
        if not key:
            return None
        api_key = api_keys.authenticate(key)
        if api_key is None:
            return None
        if not set(self.scopes) & set(api_key.scopes):
            raise PermissionDeniedError(
                "This API key lacks the scope for this call.",
                required_scopes=list(self.scopes),
            )
        return api_key


def api_key_of(request: HttpRequest) -> ApiKey:
    """The key ``ApiKeyAuth`` accepted for this request (its scopes and ``bound_to``)."""
    key: Any = getattr(request, "auth", None)
    if not isinstance(key, ApiKey):
        raise PermissionDeniedError("This call needs an API key.")
    return key


def actor_from(request: HttpRequest) -> Actor:
    key: Any = getattr(request, "auth", None)
    if isinstance(key, ApiKey):
        return Actor(kind="api_key", id=key.pk, label=f"api-key:{key.name}")
    return Actor.from_user(getattr(request, "user", None))


class NotSignedInError(DomainError):
    """A shopper's own resource (order history, account) asked for by a guest."""

    code = "not_signed_in"
    status = 401
    challenge = "Bearer"
    message = "Sign in first: an app with a token from POST /api/v1/account/tokens."


class InvalidTokenError(DomainError):
    code = "invalid_token"
    status = 401
    challenge = 'Bearer error="invalid_token"'
    message = (
        "The sign-in token is not valid: unknown, signed out, lapsed, or issued before a "
        "password change. Sign in again (POST /api/v1/account/tokens)."
    )


def bearer_token(request: HttpRequest) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, else None (other schemes
    are not ours to judge: a proxy's Basic auth passes through)."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip()


def _token_shopper(request: HttpRequest, token: str) -> Any:
    """The shopper an app's bearer token stands for; 401 ``invalid_token`` for one that no
    longer works (so the app signs in again instead of carrying on as a guest)."""
    record = shopper_tokens.authenticate(token)
    if record is None:
        raise InvalidTokenError
    request.shopper_token = record  # type: ignore[attr-defined]  # signing out needs it
    return record.user


def signed_in_shopper(request: HttpRequest) -> Any:
    """The signed-in shopper the request speaks for, else None (a guest).

    An app sends its bearer token (``_token_shopper``). A browser carries the session
    cookie and, for a POST/PATCH/DELETE, must pass Django's CSRF check (``X-CSRFToken``
    header with the ``csrftoken`` cookie's value): a cross-site form or fetch that only
    rides on the cookie is treated as anonymous, so it can never act as the user. (A
    bearer token needs no CSRF check: a browser never adds it by itself.) The Store API's
    carts, orders and account share this rule.
    """
    token = bearer_token(request)
    if token is not None:
        return _token_shopper(request, token)
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return None
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    if request.method not in SAFE_METHODS and check_csrf(request) is not None:
        return None
    return user
