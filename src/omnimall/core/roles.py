"""Staff roles as Django groups: the role → permission mapping is data, kept here.

Each role lists permissions as ``"app_label.codename"``. A codename may end in ``*``
(``"catalog.view_*"``) to mean every matching permission of that app, so a role that
"sees the catalog" also sees models a later issue adds to it.

``sync_roles()`` makes the groups match this mapping exactly (it is idempotent). The
data migration ``core/0002_staff_roles`` calls it; later issues extend ``ROLES`` and
call it again from their own data migration (``sync_roles(apps=apps)``).
"""

from __future__ import annotations

import fnmatch
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)

MERCHANDISER = "merchandiser"
MARKETING = "marketing"
LOGISTICS = "logistics"
CUSTOMER_SERVICE = "customer service"
STORE_STAFF = "store staff"
HEAD_OF_ECOMMERCE = "head of e-commerce"
FINANCE = "finance"

CATALOG_MODELS = ("brand", "category", "product", "sku", "productimage", "pricelist", "price")


def _crud(app_label: str, models: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(
        f"{app_label}.{action}_{model}"
        for model in models
        for action in ("add", "change", "delete", "view")
    )


VIEW_CATALOG = ("catalog.view_*",)
# What shoppers searched for and did not find: work for merchandising and marketing.
ZERO_RESULT_SEARCHES = "search.view_zeroresultquery"

# Stock work shared by logistics and store staff: adjustments and safety stock
# (``change_stocklevel``), creating transfers and moving them along (dispatch, receive,
# cancel: ``change_transfer``).
STOCK_EDITING = (
    "inventory.change_stocklevel",
    "inventory.add_transfer",
    "inventory.change_transfer",
)
# The order list as a CSV: shoppers' personal data in bulk (PIPL), so only the roles that
# work with orders across the whole network get it, never store staff.
EXPORT_ORDERS = "orders.export_order"
# Money back outside a cancellation or a return, on customer service's judgement.
REFUND_ORDERS = "orders.refund_order"
STORE_STOCK_VIEWS = tuple(
    f"inventory.view_{model}"
    for model in (
        "stocklevel",
        "stockmovement",
        "reservation",
        "transfer",
        "transferline",
        "fulfilmentrequest",
        "fulfilmentline",
        "shipment",
    )
)

ROLES: dict[str, tuple[str, ...]] = {
    # Catalog and prices: the merchandiser's whole job.
    MERCHANDISER: (
        *_crud("catalog", CATALOG_MODELS),
        "sales_channels.view_saleschannel",
        ZERO_RESULT_SEARCHES,
    ),
    # Promotions, coupons and affiliates arrive with later issues. Loyalty: tiers, earning
    # rules (campaign boosts, exclusions), points partners and their rates; members (for
    # consent-based audiences) read-only.
    MARKETING: (
        *VIEW_CATALOG,
        ZERO_RESULT_SEARCHES,
        "members.view_tier",
        "members.change_tier",
        *_crud("members", ("earnrule", "partner", "partnerrate")),
        "members.view_member",
        "members.view_partnertransfer",
        "members.view_partnerreconciliation",
    ),
    # Stock everywhere: locations and who staffs them, counters (through the stock
    # services), transfers, flash-sale mode, channel safety stock.
    LOGISTICS: (
        *VIEW_CATALOG,
        "inventory.view_*",
        "inventory.add_stocklocation",
        "inventory.change_stocklocation",
        *STOCK_EDITING,
        "inventory.change_flashbucket",
        "inventory.add_channelsafetystock",
        "inventory.change_channelsafetystock",
        "inventory.delete_channelsafetystock",
        "sales_channels.view_saleschannel",
        # Orders they ship, delivery confirmations, returns arriving at warehouses.
        "orders.view_order",
        "orders.change_order",
        "orders.view_returnrequest",
        "orders.change_returnrequest",
        EXPORT_ORDERS,  # the day's shipments in a spreadsheet
        # Deliveries that failed: webhooks to the WMS and partners.
        "core.view_outboxmessage",
        "core.change_outboxmessage",
        # What delivery costs, by province, and where the shop does not deliver.
        *_crud("checkout", ("shippingzone",)),
        # Carriers' names and tracking pages, as shoppers see them on shipments.
        *_crud("inventory", ("carrier",)),
    ),
    # Orders end to end: the timeline and staff notes, cancellations and refunds
    # (``change_order``), returns, the payments ledger and rejected notifications (view).
    CUSTOMER_SERVICE: (
        *VIEW_CATALOG,
        "orders.view_*",
        "orders.change_order",
        "orders.change_returnrequest",
        EXPORT_ORDERS,
        REFUND_ORDERS,  # goodwill: a damaged item kept, a late parcel
        "payments.view_*",
        "checkout.view_cart",
        "checkout.view_shippingzone",  # "why was my delivery ¥20?"
        "inventory.view_carrier",  # "where is my parcel?"
        # The member 360 view: profile and consent, notes, merges of duplicates, points
        # adjustments with a reason (``add_pointsentry``), till receipts and returns.
        "members.view_*",
        "members.change_member",
        "members.add_membernote",
        "members.add_pointsentry",
        "members.change_pointshold",  # release a till hold stuck after a failed sale
        "pos.view_*",
        "pos.change_receipt",
        # A shopper's apps signed in: signed out for them when a phone is lost.
        "core.view_shoppertoken",
        "core.delete_shoppertoken",
    ),
    # The same stock work, but only at the stores whose ``StockLocation.staff`` lists them
    # (the inventory admin narrows every list and refuses every write elsewhere).
    STORE_STAFF: (
        *VIEW_CATALOG,
        "inventory.view_stocklocation",
        *STORE_STOCK_VIEWS,
        *STOCK_EDITING,
        # The pick-up desk and returns handed in at the counter, at their own stores.
        "orders.view_order",
        "orders.change_order",
        "orders.view_returnrequest",
        "orders.change_returnrequest",
        # Members at the counter and their own stores' till receipts.
        "members.view_member",
        "pos.view_receipt",
        "pos.view_receiptline",
        "pos.view_tillreturn",
        "pos.view_tillreturnline",
    ),
    # Invoices (fapiao): the requests to issue and recording the issued ones
    # (``change_invoicerequest``), with the orders and payments behind them (read-only).
    # The store credit report is part of the orders admin: ``view_order`` opens it.
    FINANCE: (
        "orders.view_order",
        "orders.view_invoicerequest",
        "orders.change_invoicerequest",
        EXPORT_ORDERS,  # the orders' figures, for the books
        "payments.view_*",
        # The stores' takings (by payment method) against the bank's and wallets' payouts.
        "pos.view_receipt",
        "pos.view_tillreturn",
    ),
    # Sees everything the business runs on, changes nothing by default (invoice requests
    # included: ``orders.view_*``); may take the order list away as a CSV.
    HEAD_OF_ECOMMERCE: (
        "core.view_*",
        "catalog.view_*",
        "sales_channels.view_*",
        "inventory.view_*",
        "search.view_*",
        "checkout.view_*",
        "orders.view_*",
        EXPORT_ORDERS,
        "payments.view_*",
        "members.view_*",
        "pos.view_*",
    ),
}


# Roles whose members see and edit stock at every location. Everybody else with stock
# permissions (store staff) works only at the locations whose ``staff`` lists them.
NETWORK_WIDE_STOCK_ROLES = frozenset({LOGISTICS, HEAD_OF_ECOMMERCE})


def works_at_every_location(user: Any) -> bool:
    """True for superusers and members of a network-wide stock role."""
    if not getattr(user, "is_active", False):
        return False
    if getattr(user, "is_superuser", False):
        return True
    return bool(user.groups.filter(name__in=NETWORK_WIDE_STOCK_ROLES).exists())


@dataclass(frozen=True)
class SyncReport:
    groups: dict[str, int]  # role → number of permissions granted
    missing: tuple[str, ...]  # explicit permissions that do not exist (yet)


def _resolve(patterns: tuple[str, ...], available: Mapping[str, int]) -> tuple[set[int], list[str]]:
    ids: set[int] = set()
    missing: list[str] = []
    for pattern in patterns:
        if "*" in pattern:
            ids.update(pk for name, pk in available.items() if fnmatch.fnmatchcase(name, pattern))
        elif pattern in available:
            ids.add(available[pattern])
        else:
            missing.append(pattern)
    return ids, missing


def sync_roles(
    *,
    apps: Any = None,
    roles: Mapping[str, tuple[str, ...]] | None = None,
    warn_missing: bool = True,
) -> SyncReport:
    """Create one group per role and give it exactly the role's permissions.

    ``apps`` is the migration's historical app registry (default: the live one). Permissions
    a role names that do not exist yet are skipped and reported, never invented (and
    logged unless ``warn_missing`` is off: the early migration that first creates the
    roles runs before later apps' models exist; the sync after every ``migrate`` warns).
    """
    if apps is None:
        from django.apps import apps as live_apps

        apps = live_apps
    group_model = apps.get_model("auth", "Group")
    permission_model = apps.get_model("auth", "Permission")
    available = {
        f"{app_label}.{codename}": pk
        for pk, app_label, codename in permission_model.objects.values_list(
            "pk", "content_type__app_label", "codename"
        )
    }
    granted: dict[str, int] = {}
    missing: list[str] = []
    for role, patterns in (roles or ROLES).items():
        ids, role_missing = _resolve(patterns, available)
        missing.extend(role_missing)
        group, _created = group_model.objects.get_or_create(name=role)
        group.permissions.set(sorted(ids))
        granted[role] = len(ids)
    if missing and warn_missing:
        logger.warning("Roles name permissions that do not exist: %s", ", ".join(missing))
    return SyncReport(groups=granted, missing=tuple(missing))
