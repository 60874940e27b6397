"""omnimall: one commerce service for a brand's online mall, stores, members and warehouses."""

from .celery import app as celery_app

__all__ = ["celery_app"]
