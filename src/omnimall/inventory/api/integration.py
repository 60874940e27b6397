"""Integration API for warehouses (WMS) and stores: stock reports, receipts, fulfilment."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["inventory integration"])
