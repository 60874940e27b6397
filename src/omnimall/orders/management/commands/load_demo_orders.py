"""``omnimall manage load_demo_orders [--orders N] [--seed S]``: the demo's order history,
once (``omnimall.orders.demo``)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from omnimall.orders.demo import DemoOrdersError, load_demo_orders


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = (
        "Load the demo's order history: about 80 online orders over the last 14 days "
        "(paid, shipped, delivered, picked up, cancelled, returned, invoiced; the newest "
        "still open), made through the shop's services and dated back. Needs the demo "
        "catalog (load_demo). Does nothing when the history is there already."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--orders", type=_positive, default=80, help="how many orders (default 80)"
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=2026,
            help="random seed: the same seed gives the same history",
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar (for logs)")

    def handle(self, *args: Any, **options: Any) -> None:
        verbose = options["verbosity"] > 0

        def out(message: str) -> None:
            if verbose:
                self.stdout.write(message)

        try:
            result = load_demo_orders(
                orders=options["orders"],
                seed=options["seed"],
                progress=verbose and not options["no_progress"],
                out=out,
            )
        except DemoOrdersError as missing:
            raise CommandError(str(missing)) from missing
        if not result.loaded:
            out("Demo orders already loaded; nothing to do.")
            return
        states = ", ".join(f"{state} {n}" for state, n in sorted(result.states.items()))
        skipped = f" ({result.skipped} skipped: no stock to spare)" if result.skipped else ""
        out(self.style.SUCCESS(f"Demo orders loaded: {result.orders}{skipped}: {states}."))
