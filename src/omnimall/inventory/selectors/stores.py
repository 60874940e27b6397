"""The stores by name, for reports that list them (open and closed: a closed store's past
sales still count). They return dataclasses, never querysets."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from django.utils.translation import get_language

from omnimall.inventory.models import LocationKind, StockLocation


@dataclass(frozen=True, slots=True)
class StoreName:
    id: int
    code: str
    name_en: str
    name_zh: str

    @property
    def name(self) -> str:
        """The store's name in the reader's language (its code when it has none)."""
        zh = (get_language() or "").startswith("zh")
        return (self.name_zh if zh else self.name_en) or self.code


def list_stores(*, location_ids: Collection[int] | None = None) -> list[StoreName]:
    """Every store, or those of ``location_ids`` that are stores, by code (one query)."""
    rows = StockLocation.objects.filter(kind=LocationKind.STORE)
    if location_ids is not None:
        rows = rows.filter(pk__in=sorted(location_ids))
    return [
        StoreName(id=pk, code=code, name_en=name_en, name_zh=name_zh)
        for pk, code, name_en, name_zh in rows.order_by("code").values_list(
            "pk", "code", "name_en", "name_zh"
        )
    ]
