"""Core write services re-exported for other apps: audit and cache invalidation."""

from __future__ import annotations

from .audit import record as record_audit
from .cache_versions import bump_version

__all__ = ["bump_version", "record_audit"]
