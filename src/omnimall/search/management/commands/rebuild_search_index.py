"""``omnimall manage rebuild_search_index``: rebuild the whole search index."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from omnimall.search import services


class Command(BaseCommand):
    help = "Rebuild the search index from the catalog (progress bar; safe to rerun)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--no-progress", action="store_true", help="Hide the progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        count = services.rebuild_index(
            progress=not options["no_progress"] and options.get("verbosity", 1) > 0
        )
        self.stdout.write(
            self.style.SUCCESS(f"Indexed {count} products in {time.monotonic() - started:.1f} s.")
        )
