"""``omnimall manage load_demo [--products N] [--seed S]``: the demo catalog, once."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from omnimall.catalog.demo.loader import load_demo
from omnimall.checkout.demo import load_demo_shipping_zones
from omnimall.core.management.demo_options import (
    add_seed_and_progress,
    output,
    positive_int,
    progress,
)
from omnimall.inventory.demo import load_demo_carriers


class Command(BaseCommand):
    help = (
        "Load the demo catalog (3 brands, a 3-level category tree, products with SKUs, prices "
        "and images), 14 stock locations and their stock (receipt movements), shipping zones "
        "and carriers. Does nothing when the demo data is already there, except adding what an "
        "older demo lacks (its stock, its shipping zones, its carriers)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--products",
            type=positive_int,
            default=2000,
            help="number of products to generate (default 2000)",
        )
        add_seed_and_progress(parser, makes="catalog")

    def handle(self, *args: Any, **options: Any) -> None:
        out = output(self, options)
        try:
            result = load_demo(
                products=options["products"],
                seed=options["seed"],
                progress=progress(options),
                out=out,
            )
        except KeyboardInterrupt as exc:  # the transaction rolled back: nothing half-loaded
            raise CommandError("interrupted; nothing was loaded") from exc
        # Also for a demo loaded before shipping zones and carriers existed.
        zones, carriers = load_demo_shipping_zones(), load_demo_carriers()
        if not result.loaded:
            if result.stock_levels:
                out(f"Demo catalog already loaded; added its stock ({result.stock_levels} levels).")
            elif zones or carriers:
                out("Demo catalog already loaded; added its shipping zones and carriers.")
            else:
                out("Demo data already loaded (the demo brands exist); nothing to do.")
        else:
            out(
                self.style.SUCCESS(
                    f"Demo data loaded: {result.products} products, {result.skus} SKUs, "
                    f"{result.stock_levels} stock levels in {result.seconds:.1f} s."
                )
            )
        if zones:
            out(f"Demo shipping zones: {zones} (remote regions; no delivery outside the mainland).")
        if carriers:
            out(f"Demo carriers: {carriers} (names and tracking pages shoppers see on shipments).")
