"""The guest orders a browser session may see again: ``{number: guest token}``.

Checkout remembers each order it places; the order page remembers a token it was shown
(``?token=`` from an email or the gateway's return). The order pages — and a checkout
refused for unpaid orders, which lists them — then show those orders without the token
in the address. Only the newest ``KEEP`` are kept.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

SESSION_KEY = "omnimall_order_tokens"
KEEP = 20


def remembered(session: MutableMapping[str, Any]) -> dict[str, str]:
    tokens = session.get(SESSION_KEY)
    return dict(tokens) if isinstance(tokens, dict) else {}


def remember(session: MutableMapping[str, Any], number: str, token: str) -> None:
    tokens = remembered(session)
    if tokens.get(number) == token:
        return
    tokens.pop(number, None)
    tokens[number] = token  # the newest last: dicts keep insertion order
    session[SESSION_KEY] = dict(list(tokens.items())[-KEEP:])
