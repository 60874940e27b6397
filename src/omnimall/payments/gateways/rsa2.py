"""RSA2 as Alipay uses it: SHA256withRSA (PKCS#1 v1.5) over ``domain.signing_string``,
the signature base64-encoded. Keys are PEM files, loaded once per process per path."""

from __future__ import annotations

import base64
import binascii
import contextlib
import functools
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from omnimall.payments.domain import signing_string

KEY_BITS = 2048


def _write_new_key(path: Path) -> None:
    """Create a 2048-bit key at ``path`` (mode 0600), unless another process just did."""
    path.parent.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    pem = key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )
    fd, tmp = tempfile.mkstemp(prefix=".key-", dir=path.parent)  # created 0600
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)  # atomic and refuses to overwrite: the first writer wins
    finally:
        os.unlink(tmp)


@functools.lru_cache(maxsize=8)
def load_private_key(path: Path) -> rsa.RSAPrivateKey:
    """The private key at ``path``, created on first use."""
    if not path.exists():
        _write_new_key(path)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError(f"{path} does not hold an RSA private key")
    return key


@functools.lru_cache(maxsize=8)
def load_public_key(path: Path) -> rsa.RSAPublicKey:
    """The public half of the key at ``path`` (what the shop verifies notifications with)."""
    return load_private_key(path).public_key()


def public_key_pem(path: Path) -> str:
    return (
        load_public_key(path)
        .public_bytes(
            encoding=serialization.Encoding.PEM,
            format=serialization.PublicFormat.SubjectPublicKeyInfo,
        )
        .decode()
    )


def sign(params: Mapping[str, str], key: rsa.RSAPrivateKey) -> str:
    content = signing_string(params).encode("utf-8")
    return base64.b64encode(key.sign(content, padding.PKCS1v15(), hashes.SHA256())).decode()


def verify(params: Mapping[str, str], key: rsa.RSAPublicKey) -> bool:
    """Whether ``params["sign"]`` signs ``params``; False for a missing or garbled one."""
    signature = params.get("sign") or ""
    try:
        raw = base64.b64decode(signature, validate=True)
        key.verify(raw, signing_string(params).encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True
