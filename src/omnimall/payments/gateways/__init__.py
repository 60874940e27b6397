"""Payment gateways: the protocol (``base.Gateway``) and the registry ``get_gateway``.

Built in: ``sandbox`` (``gateways.sandbox``), which plays a bank or Alipay inside the
demo. A real provider is one more module implementing ``Gateway`` and one more entry
in ``_FACTORIES``.
"""

from __future__ import annotations

from collections.abc import Callable

from omnimall.payments.errors import UnknownGatewayError

from .base import Gateway, RefundReply, StartedTrade, TradeStatus


def _sandbox() -> Gateway:
    from .sandbox import SandboxGateway

    return SandboxGateway()


_FACTORIES: dict[str, Callable[[], Gateway]] = {"sandbox": _sandbox}


def gateway_codes() -> list[str]:
    return sorted(_FACTORIES)


def get_gateway(code: str) -> Gateway:
    """The gateway registered as ``code``, or ``UnknownGatewayError``."""
    factory = _FACTORIES.get(code)
    if factory is None:
        raise UnknownGatewayError(gateway=str(code)[:30])
    return factory()


__all__ = [
    "Gateway",
    "RefundReply",
    "StartedTrade",
    "TradeStatus",
    "gateway_codes",
    "get_gateway",
]
