"""Race: a store's end-of-day batch while its tills post the same receipts live.

Each receipt must be applied exactly once, whichever path gets it first, and both
ledgers must stay exact (the batch's segments fall back to the live path when a till
recorded one of their receipts meanwhile).
"""

from __future__ import annotations

import pytest
from django.core.management import call_command

from omnimall.inventory.models import MovementKind, StockMovement
from omnimall.members.models import PointsEntry, PointsEntryKind
from omnimall.members.selectors.points import ledger_mismatches
from omnimall.pos.models import Receipt, ReceiptSource
from omnimall.pos.services import sales
from omnimall.pos.services.batch import ingest_receipts
from tests.pos.factories import ACTOR, make_member, make_shop, receipt_body, sale_of
from tests.races import run_together

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


def test_a_batch_racing_live_posts_of_the_same_receipts_applies_each_once(race_database):
    shop = make_shop(units=500, skus=2)
    members = [make_member() for _ in range(6)]
    a, b = shop.skus
    items = [
        sale_of(
            receipt_body(
                shop,
                number=f"Z{i:03d}",
                lines=[(a, 1, "10.00"), (b, 2, "3.00")],
                member={"card": members[i % 6].card_number} if i % 3 else None,
            )
        )
        for i in range(60)
    ]

    def work(worker: int) -> list[str]:
        if worker == 0:
            report = ingest_receipts(sales=items, source=ReceiptSource.BATCH, actor=ACTOR, chunk=7)
            return [r.status for r in report.results]
        return [
            sales.record_sale(
                sale=sale, store_id=shop.store.pk, source=ReceiptSource.API, actor=ACTOR
            ).status
            for sale in reversed(items)
        ]

    batch, live = run_together(2, work)

    assert batch.count("created") + live.count("created") == 60
    assert set(batch) | set(live) <= {"created", "replayed"}
    assert Receipt.objects.count() == 60
    assert StockMovement.objects.filter(kind=MovementKind.SALE).count() == 120
    earned = PointsEntry.objects.filter(kind=PointsEntryKind.EARN, source_key__startswith="pos:")
    assert earned.count() == 40
    call_command("check_stock_ledger", verbosity=0)
    assert ledger_mismatches() == []
