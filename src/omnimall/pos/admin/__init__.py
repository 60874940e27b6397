"""The point-of-sale back office. Each module registers its models or pages with the admin.

``receipts``: till receipts (with the receipts that need attention) and till returns;
``takings``: the stores' takings by payment method, served on the receipts' URLs;
``scope``: which stores' receipts a staff member sees.
"""

from . import receipts, takings

__all__ = ["receipts", "takings"]
