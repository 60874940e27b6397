"""Building blocks shared by the payment services: post a capture, close a payment.

Call them inside a transaction with the payment row locked (``lock_payment``): the
ledger entry and the cached totals change together, so ``amount_captured`` and
``amount_refunded`` always equal the sums of the payment's entries.
"""

from __future__ import annotations

import functools
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

from django.db import connection, transaction
from django.db.models import Field

from omnimall.core import clock, sql
from omnimall.payments.models import EntryKind, Payment, PaymentEntry, PaymentState

CLOSED_STATES = (PaymentState.FAILED, PaymentState.CANCELLED)


def _require_transaction() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("payments ledger writes need a transaction")


def lock_payment(**lookup: object) -> Payment | None:
    """The payment matching ``lookup``, its row locked for this transaction."""
    _require_transaction()
    if lookup.keys() == {"gateway", "out_trade_no"}:
        return _lock_by_trade_no(str(lookup["gateway"]), str(lookup["out_trade_no"]))
    return Payment.objects.select_for_update().filter(**lookup).first()


def _lock_by_trade_no(gateway: str, out_trade_no: str) -> Payment | None:
    """Hand-written (hot path: every notification): the same row and lock as the ORM's
    ``select_for_update().filter(gateway=…, out_trade_no=…).first()`` (``out_trade_no``
    is unique), without compiling a queryset per request."""
    with connection.cursor() as cursor:
        cursor.execute(
            _lock_sql(connection.vendor, connection.features.has_select_for_update),
            [gateway, out_trade_no],
        )
        found = sql.instances(Payment, cursor.fetchall())
    return found[0] if found else None


@functools.cache
def _lock_sql(vendor: str, lock: bool) -> str:
    qn = connection.ops.quote_name
    meta = Payment._meta
    gateway, trade_no = (qn(str(_field(n).column)) for n in ("gateway", "out_trade_no"))
    return (
        f"SELECT {sql.select_list(Payment)} FROM {qn(meta.db_table)} "  # noqa: S608
        f"WHERE {gateway} = %s AND {trade_no} = %s{' FOR UPDATE' if lock else ''}"
    )


def post_capture(
    payment: Payment, *, trade_no: str, paid_at: datetime | None, actor_label: str
) -> bool:
    """Record that the gateway captured ``payment.amount`` as trade ``trade_no``.

    False when it was already recorded (the payment is paid, or the unique ledger
    constraint refuses the same document twice). A payment closed on our side that the
    gateway nevertheless reports paid is captured too: the money moved, so the ledger
    must say so (the order then needs a refund or a second look).
    """
    _require_transaction()
    if payment.state == PaymentState.PAID:
        return False
    entry = PaymentEntry(
        payment_id=payment.pk,
        kind=EntryKind.CAPTURE,
        amount=payment.amount,
        document=trade_no,
        actor_label=actor_label[:150],
    )
    when = paid_at or clock.now()
    if connection.vendor == "postgresql":
        if not _capture_in_one(entry, payment, trade_no=trade_no, paid_at=when):
            return False
    else:
        if _insert_unless_taken(entry) is None:
            return False
        _mark_captured(payment, trade_no=trade_no, paid_at=when)
    payment.state, payment.trade_no, payment.paid_at = PaymentState.PAID, trade_no, when
    payment.amount_captured = payment.amount_captured + payment.amount
    return True


def _field(name: str) -> Field[Any, Any]:
    return cast("Field[Any, Any]", Payment._meta.get_field(name))


def _mark_captured(payment: Payment, *, trade_no: str, paid_at: datetime) -> None:
    """``UPDATE payment SET state=paid, trade_no, amount_captured += amount, paid_at``.

    Hand-written (hot path: every notification), the same statement the ORM's
    ``filter(pk=…).update(…, amount_captured=F(…) + amount)`` sends."""
    with connection.cursor() as cursor:
        cursor.execute(
            _captured_sql(connection.vendor),
            _captured_params(payment, trade_no=trade_no, paid_at=paid_at),
        )


def _captured_params(payment: Payment, *, trade_no: str, paid_at: datetime) -> list[Any]:
    return [
        PaymentState.PAID.value,
        trade_no,
        _field("amount_captured").get_db_prep_save(payment.amount, connection),
        _field("paid_at").get_db_prep_save(paid_at, connection),
        _field("updated_at").get_db_prep_save(clock.now(), connection),
        payment.pk,
    ]


@functools.cache
def _captured_sql(vendor: str) -> str:
    qn = connection.ops.quote_name
    meta = Payment._meta

    def col(name: str) -> str:
        return qn(str(_field(name).column))

    return (
        f"UPDATE {qn(meta.db_table)} SET {col('state')} = %s, {col('trade_no')} = %s, "  # noqa: S608
        f"{col('amount_captured')} = {col('amount_captured')} + %s, {col('paid_at')} = %s, "
        f"{col('updated_at')} = %s WHERE {col('id')} = %s"
    )


def _capture_in_one(
    entry: PaymentEntry, payment: Payment, *, trade_no: str, paid_at: datetime
) -> bool:
    """PostgreSQL: the ledger entry and the payment's update in one statement (a
    data-modifying CTE); the update happens only if the entry was new. True if so."""
    params = [
        *(f.get_db_prep_save(f.pre_save(entry, True), connection) for f in _entry_fields()),
        *_captured_params(payment, trade_no=trade_no, paid_at=paid_at),
    ]
    with connection.cursor() as cursor:
        cursor.execute(_capture_sql(), params)
        return cursor.fetchone() is not None


@functools.cache
def _capture_sql() -> str:
    return (
        f"WITH entry AS ({_entry_sql('postgresql')}) "  # noqa: S608
        f"{_captured_sql('postgresql')} AND EXISTS (SELECT 1 FROM entry) "
        f"RETURNING {connection.ops.quote_name(str(Payment._meta.pk.column))}"
    )


def _insert_unless_taken(entry: PaymentEntry) -> int | None:
    """Insert ``entry`` unless the unique document constraint already holds one; its id.

    Hand-written (hot path: every payment notification): one ``INSERT … ON CONFLICT DO
    NOTHING RETURNING id`` (PostgreSQL, SQLite 3.35+) instead of a savepoint around an
    insert that may raise ``IntegrityError``. Only a unique conflict can stop it (the
    capture amount is a payment's, always positive), so None means "already posted".
    """
    fields = _entry_fields()
    params = [field.get_db_prep_save(field.pre_save(entry, True), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(_entry_sql(connection.vendor), params)
        row = cursor.fetchone()
    return None if row is None else int(row[0])


@functools.cache
def _entry_fields() -> tuple[Field[Any, Any], ...]:
    return tuple(f for f in PaymentEntry._meta.concrete_fields if not f.primary_key)


@functools.cache
def _entry_sql(vendor: str) -> str:
    qn = connection.ops.quote_name
    columns = ", ".join(qn(str(f.column)) for f in _entry_fields())
    values = ", ".join(["%s"] * len(_entry_fields()))
    return (
        f"INSERT INTO {qn(PaymentEntry._meta.db_table)} ({columns}) VALUES ({values}) "  # noqa: S608
        f"ON CONFLICT DO NOTHING RETURNING {qn(str(PaymentEntry._meta.pk.column))}"
    )


def close_pending(payment: Payment, *, state: str) -> bool:
    """Mark a pending payment failed (declined) or cancelled (closed by us); True if it was
    pending."""
    _require_transaction()
    matched = Payment.objects.filter(pk=payment.pk, state=PaymentState.PENDING).update(
        state=state, updated_at=clock.now()
    )
    if matched:
        payment.state = state
    return bool(matched)


def refundable(payment: Payment, *, pending: Decimal = Decimal("0.00")) -> Decimal:
    """What may still be refunded from ``payment``, less refunds being processed."""
    if payment.state != PaymentState.PAID:
        return Decimal("0.00")
    return payment.amount_captured - payment.amount_refunded - pending
