"""What the batch answers for each receipt, and the counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class ReceiptResult:
    store: str
    receipt_number: str
    status: str  # created | replayed | flagged | rejected
    code: str = ""
    message: str = ""
    line: int | None = None  # the receipt's line in a file, when it came from one

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"receipt_number": self.receipt_number, "status": self.status}
        if self.code:
            body["code"] = self.code
        if self.message:
            body["message"] = self.message
        return body


STATUSES = ("created", "replayed", "flagged", "rejected")


@dataclass
class BatchReport:
    created: int = 0
    replayed: int = 0
    flagged: int = 0
    rejected: int = 0
    bulk: int = 0  # receipts written by the set-based path
    live: int = 0  # receipts sent through record_sale
    results: list[ReceiptResult] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.created + self.replayed + self.flagged + self.rejected

    def counts(self) -> dict[str, int]:
        return {
            "created": self.created,
            "replayed": self.replayed,
            "flagged": self.flagged,
            "rejected": self.rejected,
            "total": self.total,
        }
