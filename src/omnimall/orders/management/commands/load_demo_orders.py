"""``omnimall manage load_demo_orders [--orders N] [--seed S]``: the demo's order history,
once (``omnimall.orders.demo``)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from omnimall.core.management.demo_options import (
    add_seed_and_progress,
    output,
    positive_int,
    progress,
)
from omnimall.orders.demo import DemoOrdersError, load_demo_orders


class Command(BaseCommand):
    help = (
        "Load the demo's order history: about 80 online orders over the last 14 days "
        "(paid, shipped, delivered, picked up, cancelled, returned, invoiced; the newest "
        "still open), made through the shop's services and dated back. Needs the demo "
        "catalog (load_demo). Does nothing when the history is there already."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--orders", type=positive_int, default=80, help="how many orders (default 80)"
        )
        add_seed_and_progress(parser, makes="history")

    def handle(self, *args: Any, **options: Any) -> None:
        out = output(self, options)
        try:
            result = load_demo_orders(
                orders=options["orders"],
                seed=options["seed"],
                progress=progress(options),
                out=out,
            )
        except DemoOrdersError as missing:
            raise CommandError(str(missing)) from missing
        if not result.loaded:
            out("Demo orders already loaded; nothing to do.")
            return
        states = ", ".join(f"{state} {n}" for state, n in sorted(result.states.items()))
        notes = [f"{result.skipped} skipped: no stock to spare"] if result.skipped else []
        if result.cut_short:
            notes.append(f"{result.cut_short} cut short: a step was refused, see the log")
        extra = f" ({'; '.join(notes)})" if notes else ""
        out(self.style.SUCCESS(f"Demo orders loaded: {result.orders}{extra}: {states}."))
