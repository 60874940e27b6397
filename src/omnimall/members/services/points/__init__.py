"""The points ledger: every change of a member's points goes through a function here.

Rules every function keeps (``check_points_ledger`` and the race tests check them):

- **Lock first.** Each write runs in a transaction (a savepoint inside the caller's) and
  starts by locking the member row (``select_for_update``). Every write of a member's
  points, lots and holds happens under that lock, so writes of one member queue and
  never interleave; writes of different members never wait on each other.
- **Append, then cache.** Each change appends exactly one immutable ``PointsEntry`` and
  moves the member's cached balances by the same deltas with a conditional ``F()`` update
  (``… WHERE points_available >= n``); the table's CHECK constraints are the backstop. A
  balance can therefore never go below zero, whatever the concurrency.
- **Lots.** Available points live in lots (``PointsLot``) that expire together;
  ``sum(open lot.remaining) == points_available`` always. Points leave the soonest-expiring
  lots first; a hold records which lots gave its points and a release puts them back.
  Lots past their expiry are expired (``EXPIRE`` entries) by the nightly ``expire_points``
  and, for one member, at the start of a spend or a hold, so expired points are never spent.
- **Holds lapse.** A hold past its ``expires_at`` can no longer be committed; the sweeper
  (``release_expired_holds``, every minute) gives its points back, and so does the member's
  next spend or hold, first thing, so lapsed points are spendable at once.
- **Once per source key.** ``source_key`` is unique. A repeat returns the first entry and
  posts nothing; a repeat that asks for something else (another member, kind or amount)
  is refused with ``PointsConflictError`` (409 ``points_source_conflict``).
- **Merged members.** A write addressed to a member merged into another lands on the
  survivor (``merged_into`` is followed), where ``move_history`` put the history.

The functions are not durable: checkout, orders, the POS and partner services call them
inside their own unit of work.

Modules: ``_ledger`` (posting, locking and lot primitives), ``earning`` (earn, mature,
reverse, restore, transfer in), ``spending`` (spend, hold, commit, release), ``expiry``,
``corrections`` (staff adjustments, merges), ``errors``. Import from this package.
"""

from __future__ import annotations

from .corrections import MAX_ADJUSTMENT, adjust_points, move_history
from .earning import earn_points, mature_points, restore_points, reverse_earn, transfer_in
from .errors import (
    HoldNotHeldError,
    InsufficientPointsError,
    InvalidPointsError,
    MemberNotFoundError,
    PointsConflictError,
    PointsHoldNotFoundError,
    PointsLedgerError,
    PointsReasonRequiredError,
)
from .expiry import expire_points
from .spending import (
    commit_hold,
    hold_points,
    release_expired_holds,
    release_hold,
    spend_points,
)

__all__ = [
    "MAX_ADJUSTMENT",
    "HoldNotHeldError",
    "InsufficientPointsError",
    "InvalidPointsError",
    "MemberNotFoundError",
    "PointsConflictError",
    "PointsHoldNotFoundError",
    "PointsLedgerError",
    "PointsReasonRequiredError",
    "adjust_points",
    "commit_hold",
    "earn_points",
    "expire_points",
    "hold_points",
    "mature_points",
    "move_history",
    "release_expired_holds",
    "release_hold",
    "restore_points",
    "reverse_earn",
    "spend_points",
    "transfer_in",
]
