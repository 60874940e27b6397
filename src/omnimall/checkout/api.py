"""Store API routes of the checkout app (mounted in omnimall.api)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["checkout"])
