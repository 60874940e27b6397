"""``omnimall manage import_partner_statement PARTNER FILE [--date D]``: match a
partner's statement (CSV, the columns of ``partner_statement``) against our transfers on
(direction, transaction_id), record the result (``PartnerReconciliation``, in the back
office) and print each mismatch. Exit code 0 when clean, 1 on mismatches, 2 for an
unknown partner or a file that cannot be read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from omnimall.core.actors import Actor
from omnimall.core.days import day_argument
from omnimall.members.partners import domain, reconciliation, selectors


class Command(BaseCommand):
    help = (
        "Reconcile a partner's daily statement (CSV: transaction_id,direction,member_card,"
        "partner_points,brand_points,state,time) with our transfers. Exit 0 clean, 1 on "
        "mismatches, 2 when the file cannot be read."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("partner", help="the partner's code")
        parser.add_argument("file", help="the partner's statement CSV")
        parser.add_argument(
            "--date",
            type=day_argument,
            help="the day the file covers (YYYY-MM-DD); default: the days of its rows",
        )

    def _read(self, path: Path) -> list[domain.StatementRow]:
        try:
            with path.open(newline="", encoding="utf-8-sig") as handle:
                return domain.parse_statement(handle)
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}", returncode=2) from exc
        except UnicodeDecodeError as exc:
            raise CommandError(f"{path} is not UTF-8 text.", returncode=2) from exc
        except domain.MalformedStatementError as exc:
            raise CommandError(f"Malformed statement {path}: {exc}", returncode=2) from exc

    def handle(self, *args: Any, **options: Any) -> None:
        partner = selectors.get_partner(options["partner"])
        if partner is None:
            raise CommandError(f"Unknown partner {options['partner']!r}.", returncode=2)
        path = Path(options["file"])
        rows = self._read(path)
        try:
            result = reconciliation.reconcile_statement(
                partner=partner,
                rows=rows,
                file_name=path.name,
                actor=Actor.system("import_partner_statement"),
                day=options["date"],
            )
        except domain.MalformedStatementError as exc:
            raise CommandError(f"Malformed statement {path}: {exc}", returncode=2) from exc
        for mismatch in result.mismatches:
            self.stdout.write(domain.Mismatch(**mismatch).describe())
        summary = (
            f"{len(rows)} row(s) in the file, {result.matched} matched, "
            f"{len(result.mismatches)} mismatch(es); partner {partner.code}, from {result.day}"
        )
        if result.mismatches:
            raise CommandError(f"Statement does not reconcile: {summary}.", returncode=1)
        self.stdout.write(self.style.SUCCESS(f"Statement reconciles: {summary}."))
