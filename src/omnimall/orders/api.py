"""Store API routes of the orders app (mounted in omnimall.api)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["orders"])
