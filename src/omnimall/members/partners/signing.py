"""Partner credentials and request signatures.

**Requests from a partner** carry four headers::

    X-Partner-Key: <key id>
    X-Timestamp:   <unix seconds>
    X-Nonce:       <16-64 characters [A-Za-z0-9_-]>, never used before by this partner
    X-Signature:   hex HMAC-SHA256(secret, canonical string)

and the canonical string is ``METHOD\\nPATH\\nTIMESTAMP\\nNONCE\\nSHA256HEX(BODY)`` where
PATH is the request path (``/api/v1/partners/points-transfers``) followed by ``?`` and
the query string when there is one, and BODY the raw request body (empty for a GET).

**The secret** is kept encrypted (Fernet, AES-128-CBC + HMAC) under a key derived from
``SECRET_KEY`` with HKDF-SHA256, because checking a signature needs it in clear; a key in
``SECRET_KEY_FALLBACKS`` still decrypts, so SECRET_KEY can be rotated.

**Requests to a partner** (outbound transfers) go through the outbox as webhooks and are
signed the way every omnimall webhook is (``X-Omnimall-Signature: t=…,v1=…``, see
docs/outbox.md) with the *outbound signing secret*, derived from the partner's secret by
:func:`outbound_secret` so the partner keeps one credential.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

KEY_HEADER = "X-Partner-Key"
TIMESTAMP_HEADER = "X-Timestamp"
NONCE_HEADER = "X-Nonce"
SIGNATURE_HEADER = "X-Signature"
NONCE_PATTERN = re.compile(r"^[A-Za-z0-9_\-]{16,64}$")
TIMESTAMP_PATTERN = re.compile(r"^[0-9]{1,12}$")
SIGNATURE_PATTERN = re.compile(r"^[0-9a-fA-F]{64}$")
_HKDF_INFO = b"omnimall partner secrets v1"
_OUTBOUND_LABEL = b"omnimall-outbound-v1"


class SecretUnreadableError(Exception):
    """The stored secret does not decrypt with SECRET_KEY (or its fallbacks)."""


# --- credentials -----------------------------------------------------------------------


def new_key_id() -> str:
    return "pk_" + secrets.token_hex(8)


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def _fernet_for(secret_key: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(
        secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(derived))


def _fernet() -> MultiFernet:
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet([_fernet_for(str(key)) for key in keys])


def encrypt_secret(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def decrypt_secret(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretUnreadableError from exc


def outbound_secret(secret: str) -> str:
    """The secret that signs our requests to the partner: HMAC-SHA256(secret, label)."""
    return hmac.new(secret.encode(), _OUTBOUND_LABEL, hashlib.sha256).hexdigest()


# --- signatures ------------------------------------------------------------------------


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def canonical_string(*, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    return f"{method.upper()}\n{path}\n{timestamp}\n{nonce}\n{body_hash(body)}"


def sign(*, secret: str, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    message = canonical_string(
        method=method, path=path, timestamp=timestamp, nonce=nonce, body=body
    )
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def signature_matches(
    *, secret: str, signature: str, method: str, path: str, timestamp: str, nonce: str, body: bytes
) -> bool:
    expected = sign(
        secret=secret, method=method, path=path, timestamp=timestamp, nonce=nonce, body=body
    )
    return hmac.compare_digest(expected, signature.lower())


def within_window(*, timestamp: str, window_seconds: int, now: float | None = None) -> bool:
    if not TIMESTAMP_PATTERN.match(timestamp):
        return False
    current = time.time() if now is None else now
    return abs(current - int(timestamp)) <= window_seconds


def signed_headers(
    *,
    key_id: str,
    secret: str,
    method: str,
    path: str,
    body: bytes = b"",
    timestamp: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """The four headers a partner sends (a reference client: tests and docs use it)."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    once = nonce or secrets.token_hex(16)
    return {
        KEY_HEADER: key_id,
        TIMESTAMP_HEADER: stamp,
        NONCE_HEADER: once,
        SIGNATURE_HEADER: sign(
            secret=secret, method=method, path=path, timestamp=stamp, nonce=once, body=body
        ),
    }
