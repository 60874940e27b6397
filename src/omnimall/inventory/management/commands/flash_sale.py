"""``omnimall manage flash_sale {on,off,refill,status} --sku CODE --location CODE``."""

from __future__ import annotations

import getpass
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from omnimall.core.actors import Actor
from omnimall.core.errors import DomainError
from omnimall.inventory.selectors import flash as flash_selectors
from omnimall.inventory.services import flash

DEFAULT_BUCKETS = 16


def _bucket_count(value: str) -> int:
    number = int(value)
    if not 1 <= number <= flash.MAX_BUCKETS:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = (
        "Flash-sale mode for one SKU at one location: 'on' splits its sellable units into "
        "buckets that buyers draw from in parallel (again on a level already on: re-split), "
        "'refill' spreads units received or released since then over the buckets, 'off' "
        "merges the buckets back, 'status' shows them. The stock ledger stays exact."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=("on", "off", "refill", "status"))
        parser.add_argument("--sku", required=True, help="SKU code")
        parser.add_argument("--location", required=True, help="stock location code")
        parser.add_argument(
            "--buckets",
            type=_bucket_count,
            default=DEFAULT_BUCKETS,
            help=f"buckets for 'on' (1–{flash.MAX_BUCKETS}, default {DEFAULT_BUCKETS}); "
            "about the number of buyers expected at once",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        level_id = flash_selectors.get_level_id(
            sku_code=options["sku"], location_code=options["location"]
        )
        if level_id is None:
            raise CommandError(
                f"No stock of SKU {options['sku']!r} at location {options['location']!r}."
            )
        actor = Actor.system(f"manage flash_sale ({getpass.getuser()})")
        action = options["action"]
        try:
            if action == "on":
                units = flash.enable_flash_sale(
                    level_id=level_id, buckets=options["buckets"], actor=actor
                )
                self.stdout.write(
                    f"Flash-sale mode on: {units} units in {options['buckets']} buckets."
                )
            elif action == "refill":
                units = flash.refill_flash_sale(level_id=level_id, actor=actor)
                self.stdout.write(f"Buckets refilled: {units} units in buckets.")
            elif action == "off":
                units = flash.disable_flash_sale(level_id=level_id, actor=actor)
                self.stdout.write(f"Flash-sale mode off: {units} units merged back.")
        except DomainError as error:
            raise CommandError(f"{error.code}: {error}") from error
        state = flash_selectors.get_flash_sale_state(level_id=level_id)
        if state is None:
            raise CommandError(f"Stock level {level_id} vanished.")
        mode = f"{len(state.buckets)} buckets {list(state.buckets)}" if state.buckets else "off"
        self.stdout.write(
            f"level {level_id}: on_hand={state.on_hand} reserved={state.reserved} "
            f"(of which in buckets {state.bucketed}) safety_stock={state.safety_stock}; "
            f"flash-sale mode: {mode}"
        )
