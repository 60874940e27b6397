"""The orders back office. Each module registers its models or pages with the admin site.

``orders``: the order list and page (read-only money and state, timeline, staff notes,
actions that call the services); ``pickup``: the pick-up desk page; ``invoices``: the
invoice (fapiao) requests finance issues. ``returns`` and
``credit`` (returns workflow, store credit report) come from the after-sales work.
"""

from . import invoices, orders, pickup

try:  # pragma: no cover - present once the after-sales modules have landed
    from . import credit, returns
except ImportError:  # pragma: no cover
    credit = returns = None  # type: ignore[assignment]

__all__ = ["credit", "invoices", "orders", "pickup", "returns"]
