"""The stock back office. Each module registers its models with the admin site.

``levels`` (read-only counters) with ``level_pages`` (adjustments, safety stock, flash-sale
mode through the services); ``ledger``: movements and reservations; ``transfers``: the
transfer workflow; ``locations``: stock locations with their staff, channel safety stock;
``fulfilment``: fulfilment requests (read-only). ``scope``: which locations a user works
at; ``filters``, ``forms``, ``charts``, ``pages``: their building blocks.
"""

from . import fulfilment, ledger, levels, locations, transfers

__all__ = ["fulfilment", "ledger", "levels", "locations", "transfers"]
