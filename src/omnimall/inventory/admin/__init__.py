"""The stock back office. Each module registers its models with the admin site.

``stock``: levels (read-only counters; adjustments, safety stock, flash-sale mode through
the services), the movement ledger and reservations. ``transfers``: the transfer workflow.
``locations``: stock locations with their staff, channel safety stock. ``fulfilment``:
fulfilment requests (read-only). ``scope``: which locations a user works at.
"""

from . import fulfilment, locations, stock, transfers

__all__ = ["fulfilment", "locations", "stock", "transfers"]
