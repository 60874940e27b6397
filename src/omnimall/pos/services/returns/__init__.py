"""Till returns: goods brought back to a store, against a receipt or (authorised) without.

``record_till_return`` applies a return once per (store, number), like a receipt:

1. ``till_return.store_code`` must be ``store_id``'s code (422 ``unknown_store``); the
   same (store, number) again → the stored return (``created=False``), or 409
   ``return_conflict`` for another payload (any field: lines, receipt, member, time,
   ``authorised_by``, ``reason``; amounts compared to the cent and the time as an
   instant, as for receipts); unknown SKU codes → 422 ``unknown_sku``.
2. With ``receipt_number``: the store's receipt (422 ``unknown_receipt``), not after the
   return (``occurred_at`` at or after the receipt's, else 422 ``return_before_sale``:
   a till's clock or a typed receipt number gone wrong). A ``member`` given must be the
   receipt's (card or phone; 422 ``unknown_member`` / ``invalid_phone`` as at a sale),
   else 422 ``return_member_mismatch`` — also for a receipt without a member: the points
   and spend go back to whoever bought, so another member named is a mistake to report,
   not to ignore. Each line is matched to the receipt's lines — by ``line_no`` (its SKU
   must match, else 422
   ``invalid_return_line``) or by SKU (spread over the receipt's lines of that SKU in
   order). Quantity ≤ sold − already returned and the refunded amount ≤ the line's total
   − already refunded, else 422 ``return_exceeds_sale``. Concurrent returns against one
   receipt are serialised by locking the receipt row.
3. Without a receipt: ``authorised_by`` is required (422 ``validation_failed``); the lines
   are restocked; a member named (card or phone, which must exist: 422
   ``unknown_member``) is recorded on the return, with no points change and no purchase.
4. Stock: each line comes back with a ``return`` movement at this store
   (``inventory.services.receive_stock(kind=RETURN)``), levels in primary-key order.
5. Points (a receipt with a member): per receipt line, the earned points are reversed in
   proportion to the refunded amount, cumulatively —
   ``share(line.points_earned, refunded_after, line_total) − share(…, refunded_before, …)``
   — so returning everything reverses exactly what was earned, and returning a line that
   earned nothing reverses nothing (``reverse_earn`` on ``pos:<store>:<receipt>:earn``,
   source key ``pos-return:<store>:<number>:reverse``). If the member has already spent
   them, what is there is taken and the return is flagged ``points_shortfall``. Points
   the receipt was paid with come back in proportion to the refund over the receipt's
   total, cumulatively (``restore_points``, ``pos-return:<store>:<number>:restore``).
   A negative purchase (``pos-return:<store>:<number>``) lowers the member's tier spend.
   (``return_key``: returns recorded before 2026-11-29 have ``pos:<store>:return:…``.)

The modules, in the order a return goes through them:

- ``recording``: ``record_till_return`` — a replay or a conflict (1), the checks, then
  one transaction writing the return, its lines and what it gives back.
- ``checks``: what must hold before anything is written: the receipt and member named
  (2), or a return without receipt's staff and member (3).
- ``matching``: the lines matched to the receipt's, within what is left to return and
  refund, under the receipt's lock (2).
- ``effects``: the stock (4), points and spend (5) given back, and ``return_key``.
"""

from .effects import return_key
from .recording import ReturnResult, record_till_return

__all__ = ["ReturnResult", "record_till_return", "return_key"]
