"""``omnimall manage check_points_ledger``: every member's balances against the ledger."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from omnimall.members.selectors.points import held_mismatches, ledger_mismatches


class Command(BaseCommand):
    help = (
        "Verify, for every member, that the cached points balances (available, held, "
        "pending) equal the sums of the ledger entries, that the open lots hold exactly the "
        "available points, and that the held points equal the holds still held. Exits "
        "non-zero on any mismatch."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        mismatches = ledger_mismatches()
        for mismatch in mismatches:
            self.stdout.write(
                f"MISMATCH member {mismatch.member_id}: cached (available, held, pending) "
                f"{mismatch.cached}, ledger {mismatch.ledger}, open lots {mismatch.lots}"
            )
        held = held_mismatches()
        for member_id in held:
            self.stdout.write(f"MISMATCH member {member_id}: held points differ from its holds")
        problems = len(mismatches) + len(held)
        if problems:
            raise CommandError(f"Points ledger: {problems} mismatch(es).")
        self.stdout.write(self.style.SUCCESS("Points ledger OK."))
