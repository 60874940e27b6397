"""Sending one outbox message: a signed webhook POST, an email, or a gateway notification.

Standard library HTTP (``urllib.request``) with ``settings.OUTBOX_HTTP_TIMEOUT``; redirects
are not followed (a 3xx is a failure: the receiver must give its final URL). Nothing here
touches the database: the worker calls these outside any transaction.

Inside ``email_session()`` (a whole delivery run) emails share one connection of the
e-mail backend — one SMTP session for the run instead of a connect, TLS handshake and
login per email — opened by the first email and closed when the block ends, or after a
failure (the next email opens a fresh one).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection

from omnimall.core import sms
from omnimall.core.models import OutboxKind

from . import signing

if TYPE_CHECKING:
    from email.message import Message

    from omnimall.core.models import OutboxMessage

MAX_REPLY_BYTES = 4096
USER_AGENT = "omnimall-outbox/1"


@dataclass(frozen=True, slots=True)
class Result:
    ok: bool
    error: str = ""
    permanent: bool = False  # retrying cannot help: straight to the dead letters


DELIVERED = Result(ok=True)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: Any,
        code: int,
        msg: str,
        headers: Message,
        newurl: str,
    ) -> None:
        return None  # urllib then raises HTTPError with the 3xx status


_OPENER = urllib.request.build_opener(_NoRedirects)


def _post(url: str, data: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    request = urllib.request.Request(  # noqa: S310 - scheme checked by the caller
        url, data=data, headers={"User-Agent": USER_AGENT, **headers}, method="POST"
    )
    try:
        with _OPENER.open(request, timeout=settings.OUTBOX_HTTP_TIMEOUT) as response:
            return int(response.status), response.read(MAX_REPLY_BYTES)
    except urllib.error.HTTPError as error:
        reply = error.read(MAX_REPLY_BYTES) if error.fp is not None else b""
        return int(error.code), reply


def _snippet(reply: bytes, size: int = 200) -> str:
    text = reply.decode("utf-8", "replace").strip()
    return text if len(text) <= size else f"{text[:size]}…"


def post(url: str, data: bytes, headers: dict[str, str]) -> tuple[int, bytes] | Result:
    """POST once, following no redirect: the reply's status and (first 4 KiB of) body, or a
    failed Result when no reply came. Also the sandbox partner's client (it plays an
    outside system calling the shop)."""
    if urllib.parse.urlsplit(url).scheme not in {"http", "https"}:
        return Result(ok=False, error=f"Not an http(s) URL: {url!r}", permanent=True)
    try:
        return _post(url, data, headers)
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", None) or error
        return Result(ok=False, error=f"{type(error).__name__}: {reason}")


def webhook_body(message: OutboxMessage) -> bytes:
    return json.dumps(message.payload, ensure_ascii=False, separators=(",", ":")).encode()


def send_webhook(message: OutboxMessage) -> Result:
    subscription = message.subscription
    if subscription is None:
        return Result(ok=False, error="The webhook subscription was deleted.", permanent=True)
    if not subscription.is_active:
        return Result(ok=False, error="The webhook subscription is inactive.", permanent=True)
    body = webhook_body(message)
    headers = {
        "Content-Type": "application/json",
        "X-Omnimall-Topic": message.topic,
        "X-Omnimall-Delivery": str(message.pk),
        signing.SIGNATURE_HEADER: signing.signature_header(secret=subscription.secret, body=body),
    }
    reply = post(subscription.url, body, headers)
    if isinstance(reply, Result):
        return reply
    status, content = reply
    if 200 <= status < 300:
        return DELIVERED
    return Result(ok=False, error=f"HTTP {status}: {_snippet(content)}")


def send_gateway_notification(message: OutboxMessage) -> Result:
    payload = message.payload
    url = str(payload.get("url") or message.destination)
    params = payload.get("params") or {}
    data = urllib.parse.urlencode(params).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    reply = post(url, data, headers)
    if isinstance(reply, Result):
        return reply
    status, content = reply
    text = content.decode("utf-8", "replace").strip()
    if 200 <= status < 300 and text == "success":
        return DELIVERED
    return Result(ok=False, error=f"HTTP {status}: reply {_snippet(content)!r} is not 'success'")


class _EmailSession:
    """The e-mail backend connection of one delivery run, opened by its first email."""

    def __init__(self) -> None:
        self.connection: Any = None

    def get(self) -> Any:
        if self.connection is None:
            self.connection = get_connection()
            self.connection.open()
        return self.connection

    def drop(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None:
            with suppress(OSError):  # already broken: nothing to close cleanly
                connection.close()


_session: ContextVar[_EmailSession | None] = ContextVar("outbox_email_session", default=None)


@contextmanager
def email_session() -> Iterator[None]:
    """Emails sent in the block share one backend connection (see the module docstring)."""
    session = _EmailSession()
    token = _session.set(session)
    try:
        yield
    finally:
        _session.reset(token)
        session.drop()


def send_email(message: OutboxMessage) -> Result:
    payload = message.payload
    to = str(payload.get("to") or message.destination)
    if not to:
        return Result(ok=False, error="No recipient address.", permanent=True)
    session = _session.get()
    try:
        email = EmailMultiAlternatives(
            subject=str(payload.get("subject", "")),
            body=str(payload.get("body", "")),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[to],
            connection=session.get() if session is not None else None,
        )
        html = str(payload.get("html") or "")
        if html:
            email.attach_alternative(html, "text/html")
        email.send()
    except (OSError, ValueError) as error:  # SMTP down, refused, a bad header
        if session is not None:
            session.drop()  # the next email starts a fresh connection
        return Result(ok=False, error=f"{type(error).__name__}: {error}")
    return DELIVERED


def send_text(message: OutboxMessage) -> Result:
    """A text message through the SMS backend (``core.sms``); its exception is a failed
    attempt, tried again later."""
    sms.send(phone=str(message.payload["phone"]), text=str(message.payload["text"]))
    return DELIVERED


SENDERS = {
    OutboxKind.WEBHOOK: send_webhook,
    OutboxKind.EMAIL: send_email,
    OutboxKind.GATEWAY_NOTIFICATION: send_gateway_notification,
    OutboxKind.SMS: send_text,
}


def send(message: OutboxMessage) -> Result:
    """Try to deliver ``message`` once. Never raises: a surprise is a failed attempt."""
    sender = SENDERS.get(OutboxKind(message.kind)) if message.kind in OutboxKind.values else None
    if sender is None:
        return Result(ok=False, error=f"Unknown message kind {message.kind!r}.", permanent=True)
    try:
        return sender(message)
    except Exception as error:  # a bug or an odd reply must not stop the other messages
        return Result(ok=False, error=f"{type(error).__name__}: {error}")
