"""Inventory in the HTTP API: public availability, and the WMS/store integration calls."""

from .availability import router as availability_router
from .integration import router as integration_router

__all__ = ["availability_router", "integration_router"]
