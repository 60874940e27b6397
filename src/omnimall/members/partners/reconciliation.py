"""Matching a partner's daily statement against our transfers, and keeping the result
(``PartnerReconciliation``) for staff."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from django.db import transaction
from django.utils import timezone

from omnimall.core import audit
from omnimall.core.actors import Actor
from omnimall.members.models import Partner, PartnerReconciliation

from . import domain, selectors


def statement_days(rows: Sequence[domain.StatementRow], day: date | None) -> tuple[date, date]:
    """The day(s) a statement covers: ``day`` if given, else the days of its rows."""
    if day is not None:
        return day, day
    days = [timezone.localdate(row.time) for row in rows if row.time is not None]
    if not days:
        raise domain.MalformedStatementError("no row has a time; give --date")
    return min(days), max(days)


@transaction.atomic
def reconcile_statement(
    *,
    partner: Partner,
    rows: Sequence[domain.StatementRow],
    file_name: str,
    actor: Actor,
    day: date | None = None,
) -> PartnerReconciliation:
    """Match ``rows`` (the partner's file) with our transfers on (direction,
    transaction_id) and record the outcome. Our transfers of the covered day(s) that
    the file lacks are ``missing_in_file``; rows we do not know are ``missing_here``."""
    first, last = statement_days(rows, day)
    start, end = selectors.day_window(first, last)
    ours = selectors.rows_by_key(
        partner_id=partner.pk, keys=[(row.direction, row.transaction_id) for row in rows]
    )
    in_period = selectors.statement_rows(partner_id=partner.pk, start=start, end=end)
    matched, mismatches = domain.match_statement(rows, ours, in_period)
    reconciliation = PartnerReconciliation.objects.create(
        partner=partner,
        day=first,
        file_name=file_name[:255],
        matched=matched,
        mismatches=[mismatch.as_dict() for mismatch in mismatches],
    )
    audit.record(
        actor=actor,
        action="partner.statement_imported",
        subject=partner,
        changes={
            "file": file_name,
            "from": first.isoformat(),
            "to": last.isoformat(),
            "matched": matched,
            "mismatches": len(mismatches),
        },
    )
    return reconciliation
