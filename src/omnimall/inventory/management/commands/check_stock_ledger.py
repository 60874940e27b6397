"""``omnimall manage check_stock_ledger``: every level's counters against its ledger."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from omnimall.inventory.domain import LevelBalance, find_ledger_mismatches
from omnimall.inventory.selectors import iter_level_balances


class Command(BaseCommand):
    help = (
        "Verify, for every stock level, that on_hand equals the sum of its movements and "
        "reserved equals the sum of its held reservations. Exits non-zero on any mismatch."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        checked = 0

        def counted() -> Iterator[LevelBalance]:
            nonlocal checked
            for balance in iter_level_balances():
                checked += 1
                yield balance

        mismatches = find_ledger_mismatches(counted())
        for mismatch in mismatches:
            self.stdout.write(f"MISMATCH {mismatch.describe()}")
        if mismatches:
            raise CommandError(
                f"Stock ledger: {len(mismatches)} mismatch(es) in {checked} stock levels."
            )
        self.stdout.write(self.style.SUCCESS(f"Stock ledger OK: {checked} stock levels checked."))
