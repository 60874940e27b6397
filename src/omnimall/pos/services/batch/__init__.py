"""Many till receipts at once: the end-of-day batch endpoint and the file import.

``ingest_receipts`` gives every receipt exactly the outcome ``record_sale`` gives it when
the till posts it alone (``POST /api/v1/pos/sales``, one after the other in the order
given) — same rows, same ledgers, same status — but writes the ordinary receipts in bulk.

**The fast path.** Receipts are taken a window (``chunk``) at a time. One round of queries
resolves the window: store codes, SKU codes, the receipts already recorded (a replay or a
409 ``receipt_conflict``, nothing written), the members named (card first, then phone,
as ``record_sale`` resolves them), the store's stock levels and the earning rules. A
receipt is *ordinary* when the fast path can prove its outcome: a known store and SKUs,
no points payment, paid exactly in the shop's currency (else ``record_sale`` refuses it),
its member (if any) already enrolled and not merged, and every line
sellable in full from an existing level (Σ of the window's lines per level ≤
``on_hand − reserved``). Consecutive ordinary receipts form a *segment*, written in ONE
transaction with set-based statements, taking locks in the live path's order:

1. receipts: one multi-row ``INSERT … ON CONFLICT (store, number) DO NOTHING RETURNING``
   (a receipt posted meanwhile by a till is not inserted, and the segment falls back);
2. stock: the levels locked in primary-key order and checked again under the lock, one
   ``sale`` movement per line (bulk insert) and one aggregated conditional
   ``UPDATE … FROM (VALUES …)`` of ``on_hand`` (``inventory.services.till_bulk``);
3. points: the members locked in primary-key order (their tier checked unchanged), one
   ``EARN`` entry, one lot per earn and one aggregated balance update
   (``members.services.bulk_earn``);
4. lines (bulk insert, with each line's points) and the members' purchases and tiers
   (``members.services.purchases.record_purchases_bulk``).

A segment ends before a receipt whose outcome depends on the segment itself: the same
receipt number again, or a member already in the segment (their tier may change with the
first purchase, and ``record_sale`` earns at the tier before each purchase).

**The live path.** Anything else — a points payment or hold, an unknown member card or a
new phone to enrol, a stock shortfall, an unknown SKU, a merged member — goes through
``record_sale`` one by one, in its place in the order, with its own transaction, and its
refusals become rejected results. If a segment finds under its locks that something moved
since the window was read (a till posted one of its receipts, the stock or a tier
changed), it rolls back and its receipts go through ``record_sale`` too.

The live path writes no audit entries for a receipt and neither does this one; the one
difference in what is stored is that a tier change caused by a batch is not audited
(``record_purchases_bulk``: the machine path).

Memory stays flat: one window of receipts at a time, results handed to ``on_result`` as
they are decided (``keep_results=False`` keeps only the counts).
"""

from .ingest import DEFAULT_CHUNK, Item, ingest_receipts
from .results import STATUSES, BatchReport, ReceiptResult

__all__ = [
    "DEFAULT_CHUNK",
    "STATUSES",
    "BatchReport",
    "Item",
    "ReceiptResult",
    "ingest_receipts",
]
