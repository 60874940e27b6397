"""The HTTP API, mounted at ``/api/v1/``. Each app contributes a Ninja router."""

from __future__ import annotations

from omnimall.catalog.api import router as catalog_router
from omnimall.checkout.api import router as checkout_router
from omnimall.core.api.errors import install_error_handlers
from omnimall.core.api.openapi import DocumentedNinjaAPI
from omnimall.core.api.parser import JsonObjectParser
from omnimall.inventory.api import availability_router, integration_router
from omnimall.members.partners.api import router as partners_router
from omnimall.orders.api import router as orders_router
from omnimall.pos.api import router as pos_router
from omnimall.pos.api_batch import router as pos_batch_router
from omnimall.search.api import router as search_router
from omnimall.storefront.accounts.api import router as account_router

api = DocumentedNinjaAPI(
    title="omnimall API",
    version="1",
    description=(
        "Store API (catalog, search) for apps and mini-programs, and integration APIs for "
        "POS, WMS, CRM and partners. Errors are JSON: "
        '`{"error": {"code": "...", "message": "...", "details": {...}}}`.'
    ),
    urls_namespace="api",
    parser=JsonObjectParser(),  # a body is a JSON object: 400 bad_request otherwise
)
install_error_handlers(api)
api.add_router("/", catalog_router)
api.add_router("/search", search_router)
api.add_router("/", availability_router)
api.add_router("/inventory", integration_router)
api.add_router("/carts", checkout_router)
api.add_router("/orders", orders_router)
api.add_router("/invoices", "omnimall.orders.api_invoices.router")  # finance: ERP / tax system
api.add_router("/pickups", "omnimall.orders.api_pickups.router")  # a store's till or app
api.add_router("/account", account_router)
api.add_router("/pos", pos_router)
api.add_router("/pos", pos_batch_router)
api.add_router("/partners", partners_router)
