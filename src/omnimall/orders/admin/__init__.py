"""The orders back office. Each module registers its models or pages with the admin site.

``orders``: the order list and page (read-only money and state, timeline, staff notes,
actions that call the services); ``pickup``: the pick-up desk page; ``returns``: the
returns workflow; ``credit``: the store credit report; ``export``: the order list's CSV
export; ``invoices``: the invoice (fapiao) requests finance issues; ``dashboard``: the
back office's home page (work waiting, sales).
"""

from . import credit, dashboard, export, invoices, orders, pickup, returns

__all__ = ["credit", "dashboard", "export", "invoices", "orders", "pickup", "returns"]
