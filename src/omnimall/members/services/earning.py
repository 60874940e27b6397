"""How many points a purchase earns: the tier's rate, then the earning rules.

Rules (``EarnRule``) target a category (and everything below it) and/or a brand; a rule
with both needs both to match. They count when active and ``starts_on <= day <= ends_on``
(an empty bound is open). For a SKU, an EXCLUDE rule that matches wins (no points);
otherwise the highest matching BOOST multiplier applies (boosts do not stack: two
campaigns on one item give the better one, not the product). Points round down per line.

Points are earned only on what was paid in money: with ``points_value`` paid in points,
each line counts ``line_total × (total − points_value) / total``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Q

from omnimall.catalog.models import Sku
from omnimall.members.domain import earned_points
from omnimall.members.models import EarnRule, EarnRuleKind

ONE = Decimal(1)


@dataclass(frozen=True, slots=True)
class Rule:
    kind: str
    multiplier: Decimal
    category_path: str | None
    brand_id: int | None

    def matches(self, *, category_path: str | None, brand_id: int | None) -> bool:
        if self.category_path is not None and not (
            category_path and category_path.startswith(self.category_path)
        ):
            return False
        return self.brand_id is None or self.brand_id == brand_id


@dataclass(frozen=True, slots=True)
class EarnRules:
    """The rules valid on one day, and the facts (category path, brand) of some SKUs."""

    rules: tuple[Rule, ...] = ()
    # sku_id -> (category tree path, brand id)
    skus: dict[int, tuple[str | None, int | None]] = field(default_factory=dict)

    def multiplier_for(self, sku_id: int) -> Decimal:
        """0 when excluded; the best boost; else 1."""
        category_path, brand_id = self.skus.get(sku_id, (None, None))
        boosts: list[Decimal] = []
        for rule in self.rules:
            if not rule.matches(category_path=category_path, brand_id=brand_id):
                continue
            if rule.kind == EarnRuleKind.EXCLUDE:
                return Decimal(0)
            boosts.append(rule.multiplier)
        return max(boosts) if boosts else ONE

    def points_for(self, *, sku_id: int, amount: Decimal, rate: Decimal) -> int:
        multiplier = self.multiplier_for(sku_id)
        if multiplier <= 0:
            return 0
        return earned_points(amount, rate=rate, multiplier=multiplier)


def load_earn_rules(*, on: date, sku_ids: Iterable[int]) -> EarnRules:
    """The active rules on ``on`` and the SKUs' category paths and brands (two queries)."""
    rows = (
        EarnRule.objects.filter(is_active=True)
        .filter(Q(starts_on__isnull=True) | Q(starts_on__lte=on))
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=on))
        .order_by("pk")
        .values_list("kind", "multiplier", "category__path", "brand_id")
    )
    rules = tuple(
        Rule(kind=kind, multiplier=multiplier, category_path=path, brand_id=brand_id)
        for kind, multiplier, path, brand_id in rows
    )
    wanted = set(sku_ids)
    skus: dict[int, tuple[str | None, int | None]] = {}
    if rules and wanted:
        # Read-only: the category path and brand of each SKU (no catalog selector gives both).
        for sku_id, path, brand_id in Sku.objects.filter(pk__in=wanted).values_list(
            "pk", "product__category__path", "product__brand_id"
        ):
            skus[sku_id] = (path, brand_id)
    return EarnRules(rules=rules, skus=skus)


def paid_share(lines: Sequence[tuple[int, Decimal]], points_value: Decimal) -> Decimal:
    """The share of the total paid in money (0..1)."""
    total = sum((amount for _, amount in lines), Decimal(0))
    if total <= 0:
        return Decimal(0)
    paid = total - max(Decimal(0), points_value)
    return max(Decimal(0), min(ONE, paid / total))


def points_for_lines(
    *,
    rate: Decimal,
    lines: Sequence[tuple[int, Decimal]],
    on: date,
    points_value: Decimal = Decimal(0),
) -> list[int]:
    """Points each line earns: (sku_id, line_total) at ``rate`` points per CNY paid."""
    if not lines:
        return []
    rules = load_earn_rules(on=on, sku_ids=[sku_id for sku_id, _ in lines])
    share = paid_share(lines, Decimal(points_value))
    return [
        rules.points_for(sku_id=sku_id, amount=Decimal(amount) * share, rate=Decimal(rate))
        for sku_id, amount in lines
    ]
