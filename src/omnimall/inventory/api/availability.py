"""Store API: per-SKU availability of a product, for delivery and per store."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["availability"])
