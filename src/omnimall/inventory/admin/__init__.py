"""The stock back office. Each module registers its models with the admin site.

``levels`` (read-only counters) with ``level_pages`` (adjustments, safety stock, flash-sale
mode through the services); ``ledger``: movements and reservations; ``transfers``: the
transfer workflow; ``locations``: stock locations with their staff, channel safety stock;
``fulfilment``: fulfilment requests (read-only); ``carriers``: parcel carriers and their
tracking pages. ``scope``: which locations a user works
at; ``filters``, ``forms``, ``charts``, ``pages``: their building blocks.
"""

from omnimall.core.admin import SUBJECT_LABELS

from . import carriers, fulfilment, ledger, levels, locations, transfers
from .labels import stock_level_labels

# The audit trail names a stock level by SKU and location (its entries keep the
# level's ``__str__``, with row ids).
SUBJECT_LABELS["inventory", "stocklevel"] = stock_level_labels

__all__ = ["carriers", "fulfilment", "ledger", "levels", "locations", "transfers"]
