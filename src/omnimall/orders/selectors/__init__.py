"""Order reads for the shopper's pages, the Store API, staff and the pick-up desk.

``orders``: ``get_order_for_viewer``, ``get_order_by_id``, ``order_id_for_number``,
``list_shipment_locations`` and their dataclasses; ``history``: the shopper's order
history by tab, ``list_orders_for_user`` and ``count_orders_by_tab``; ``pickup``:
``find_pickup``, ``list_waiting_pickups`` (the shelf); ``export``: ``list_export_rows``,
the order list's CSV rows.
"""

from .history import (
    SEARCH_MAX_LENGTH,
    TABS,
    count_orders_by_tab,
    list_orders_for_user,
    tab_for,
)
from .orders import (
    OrderLineView,
    OrderPage,
    OrderSummary,
    OrderView,
    PaymentSummary,
    ReturnSummary,
    ShipmentView,
    StoreView,
    TimelineEntry,
    clean_number,
    display_number,
    get_order_by_id,
    get_order_for_viewer,
    list_shipment_locations,
    order_id_for_number,
    require_order_id,
)
from .pickup import (
    PickupView,
    ShelfRow,
    find_pickup,
    list_other_pickup_stores,
    list_waiting_pickups,
)

__all__ = [
    "SEARCH_MAX_LENGTH",
    "TABS",
    "OrderLineView",
    "OrderPage",
    "OrderSummary",
    "OrderView",
    "PaymentSummary",
    "PickupView",
    "ReturnSummary",
    "ShelfRow",
    "ShipmentView",
    "StoreView",
    "TimelineEntry",
    "clean_number",
    "count_orders_by_tab",
    "display_number",
    "find_pickup",
    "get_order_by_id",
    "get_order_for_viewer",
    "list_orders_for_user",
    "list_other_pickup_stores",
    "list_shipment_locations",
    "list_waiting_pickups",
    "order_id_for_number",
    "require_order_id",
    "tab_for",
]
