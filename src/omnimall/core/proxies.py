"""The shopper's address and scheme when the app runs behind reverse proxies.

Behind nginx or a load balancer every request arrives from the proxy: ``REMOTE_ADDR`` is
the proxy's address, so the guessing brake (``core.throttle``) would count every
shopper's failed sign-ins together and refuse everyone after ten, the payment
notification log would name the proxy, and ``request.is_secure()`` would be False on an
HTTPS shop (canonical links written with ``http://``).

With ``OMNIMALL_PROXY_COUNT = N`` werkzeug's ``ProxyFix`` rewrites the WSGI environ
before Django sees it: the client's address is the N-th ``X-Forwarded-For`` entry from
the right — the one the outermost trusted proxy wrote; entries to its left came from the
client and are ignored — and the scheme is the closest proxy's ``X-Forwarded-Proto``. A
request with fewer entries than N (one that went round the proxies) keeps its own
address. With 0, the default, the headers are ignored: a client could write them itself.
"""

from __future__ import annotations

from typing import Any

from werkzeug.middleware.proxy_fix import ProxyFix


def behind_proxies(app: Any, count: int) -> Any:
    """``app`` (a WSGI application) trusting ``count`` proxies' forwarding headers."""
    if count <= 0:
        return app
    return ProxyFix(app, x_for=count, x_proto=1, x_host=0, x_port=0, x_prefix=0)
