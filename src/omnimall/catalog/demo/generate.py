"""Deterministic generation of demo products, SKUs and prices as plain data (no database).

``ProductGenerator(seed=…)`` yields the same catalog for the same seed, so a benchmark
database can be rebuilt identically.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.utils.text import slugify

from .tables import (
    ADJECTIVES,
    BRANDS,
    CATEGORY_TREE,
    CLOSURES,
    COLLECTIONS,
    FITS,
    PALETTES,
    SEASONS,
    STYLES,
    WARM_MATERIALS,
    Branch,
    BrandRow,
    Leaf,
    Word,
)

ONLINE, STORES = "online", "stores"
# Materials named by a quality ("Stretch", "Woven") read as "stretch fabric" in a sentence.
ADJECTIVE_MATERIALS = frozenset(
    {
        "Stretch",
        "Raw",
        "Washed",
        "Selvedge",
        "Quick-dry",
        "Waterproof",
        "Woven",
        "Knit",
        "Linen-blend",
        "Wool-blend",
        "Cashmere-blend",
        "Heavyweight Cotton",
    }
)


@dataclass(frozen=True, slots=True)
class LeafRef:
    full_slug: str
    branch: Branch
    leaf: Leaf


@dataclass(frozen=True, slots=True)
class SkuSpec:
    code: str
    barcode: str
    size: str
    colour: str
    position: int
    # price list code -> (list price, sale price or None)
    prices: dict[str, tuple[Decimal, Decimal | None]]


@dataclass(frozen=True, slots=True)
class ProductSpec:
    number: int
    slug: str
    brand_slug: str
    category_full_slug: str
    name_en: str
    name_zh: str
    description_en: str
    description_zh: str
    attributes: list[dict[str, str]]
    popularity: int
    created_at: datetime
    shape: str
    colours: tuple[str, ...]
    skus: tuple[SkuSpec, ...]


def iter_leaves() -> Iterator[LeafRef]:
    for root in CATEGORY_TREE:
        for branch in root.branches:
            for leaf in branch.leaves:
                yield LeafRef(f"{root.slug}/{branch.slug}/{leaf.slug}", branch, leaf)


def ean13(digits12: str) -> str:
    """Append the EAN-13 check digit to twelve digits."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits12))
    return digits12 + str((10 - total % 10) % 10)


def _attribute(name: Word, value: Word) -> dict[str, str]:
    return {"name_en": name.en, "name_zh": name.zh, "value_en": value.en, "value_zh": value.zh}


def _price_ending_in_9(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randint(max(1, low // 10), high // 10) * 10 - 1).quantize(Decimal("0.01"))


def _scaled_price(rng: random.Random, price: Decimal, low: float, high: float) -> Decimal:
    """``price`` times a random factor in [low, high], rounded down to end in 9."""
    value = int(price * Decimal(str(rng.uniform(low, high))) / 10) * 10 - 1
    return Decimal(max(value, 9)).quantize(Decimal("0.01"))


def _discounted(rng: random.Random, price: Decimal, low: float, high: float) -> Decimal:
    # A sale price never exceeds its list price (a database constraint).
    return _scaled_price(rng, price, low, high).min(price)


class ProductGenerator:
    def __init__(self, *, seed: int, now: datetime) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - demo data, reproducible by seed
        self.now = now
        self.leaves = list(iter_leaves())
        self.leaf_weights = [ref.leaf.weight for ref in self.leaves]
        self.brands: list[BrandRow] = list(BRANDS)
        self.brand_weights = [b.weight for b in BRANDS]
        self.sku_serial = 0

    def product(self, number: int) -> ProductSpec:
        rng = self.rng
        ref = rng.choices(self.leaves, self.leaf_weights)[0]
        brand = rng.choices(self.brands, self.brand_weights)[0]
        kind = ref.branch.kind
        adjective = rng.choice(ADJECTIVES[kind])
        material = rng.choice(ref.leaf.materials)
        kind_word = rng.choice(ref.leaf.types)
        name_en = " ".join(part for part in (adjective.en, material.en, kind_word.en) if part)
        name_zh = adjective.zh + material.zh + kind_word.zh
        season = (
            SEASONS[1] if material.en in WARM_MATERIALS else rng.choice((SEASONS[0], SEASONS[2]))
        )
        colours = self._colours(kind)
        sizes = self._sizes(ref.branch.sizes)
        description_en, description_zh, attributes = self._text(
            kind, brand, name_en, name_zh, material, season
        )
        return ProductSpec(
            number=number,
            slug=f"{slugify(name_en)}-{number}",
            brand_slug=brand.slug,
            category_full_slug=ref.full_slug,
            name_en=name_en,
            name_zh=name_zh,
            description_en=description_en,
            description_zh=description_zh,
            attributes=attributes,
            popularity=min(int((rng.paretovariate(1.2) - 1) * 150), 100_000),
            created_at=self.now - timedelta(seconds=rng.randint(0, 365 * 24 * 3600)),
            shape=ref.leaf.shape,
            colours=colours,
            skus=self._skus(number, brand, colours, sizes, ref.leaf.price),
        )

    def _colours(self, kind: str) -> tuple[str, ...]:
        count = self.rng.choices((1, 2, 3), (0.6, 0.3, 0.1))[0]
        return tuple(self.rng.sample(PALETTES[kind], count))

    def _sizes(self, sizes: tuple[str, ...]) -> tuple[str, ...]:
        if len(sizes) <= 4:
            return sizes
        # A contiguous run of 4–6 sizes, like a real size curve.
        length = self.rng.randint(4, min(6, len(sizes)))
        start = self.rng.randint(0, len(sizes) - length)
        return sizes[start : start + length]

    def _skus(
        self,
        number: int,
        brand: BrandRow,
        colours: tuple[str, ...],
        sizes: tuple[str, ...],
        price_range: tuple[int, int],
    ) -> tuple[SkuSpec, ...]:
        rng = self.rng
        online_list = _price_ending_in_9(rng, *price_range)
        online_sale = _discounted(rng, online_list, 0.6, 0.9) if rng.random() < 0.25 else None
        # Stores sometimes charge more than the mall (rent), and run fewer sales.
        store_list = online_list
        if rng.random() < 0.3:
            store_list = _scaled_price(rng, online_list, 1.1, 1.2).max(online_list)
        store_sale = _discounted(rng, store_list, 0.7, 0.9) if rng.random() < 0.1 else None
        premium_colours = rng.random() < 0.2 and len(colours) > 1
        skus: list[SkuSpec] = []
        for c_index, colour in enumerate(colours):
            for size in sizes:
                self.sku_serial += 1
                bump = Decimal(20) if premium_colours and c_index else Decimal(0)
                prices = {
                    ONLINE: (online_list + bump, online_sale + bump if online_sale else None),
                    STORES: (store_list + bump, store_sale + bump if store_sale else None),
                }
                skus.append(
                    SkuSpec(
                        code=f"{brand.code}{number:07d}-{colour.upper()}-{size}",
                        barcode=ean13(f"69{self.sku_serial:010d}"),
                        size=size,
                        colour=colour,
                        position=len(skus),
                        prices=prices,
                    )
                )
        return tuple(skus)

    def _text(
        self,
        kind: str,
        brand: BrandRow,
        name_en: str,
        name_zh: str,
        material: Word,
        season: Word,
    ) -> tuple[str, str, list[dict[str, str]]]:
        rng = self.rng
        material_en = material.en.lower() or (
            "breathable" if kind == "shoes" else "carefully chosen"
        )
        if kind != "shoes" and (not material.en or material.en in ADJECTIVE_MATERIALS):
            material_en += " fabric" if kind == "clothing" else " material"
        material_zh = material.zh or "精选"
        collection = rng.choice(COLLECTIONS)
        attributes = [
            _attribute(
                Word("Material", "材质"), material if material.en else Word("Mixed", "混合材质")
            )
        ]
        if kind == "clothing":
            fit = rng.choice(FITS)
            attributes.append(_attribute(Word("Fit", "版型"), fit))
            en = (
                f"{name_en} from {brand.name_en}. Cut from {material_en} in a "
                f"{fit.en.lower()} fit, it pairs easily with the rest of your wardrobe."
            )
            zh = f"{brand.name_zh}{name_zh}，采用{material_zh}面料，{fit.zh}版型，百搭易穿。"
        elif kind == "shoes":
            closure = rng.choice(CLOSURES)
            attributes.append(_attribute(Word("Closure", "闭合方式"), closure))
            en = (
                f"{name_en} from {brand.name_en}. A {material_en} upper, a cushioned footbed "
                "and a grippy rubber outsole make them comfortable from the first wear."
            )
            zh = (
                f"{brand.name_zh}{name_zh}，{material_zh}鞋面，"
                "缓震鞋垫搭配防滑橡胶大底，上脚即舒适。"
            )
        else:
            style = rng.choice(STYLES)
            attributes.append(_attribute(Word("Style", "风格"), style))
            en = (
                f"{name_en} from {brand.name_en}. Made from {material_en} and finished "
                "by hand, sized to go everywhere with you."
            )
            zh = f"{brand.name_zh}{name_zh}，{material_zh}材质，做工精细，日常出行百搭。"
        attributes.append(_attribute(Word("Season", "季节"), season))
        attributes.append(_attribute(Word("Collection", "系列"), collection))
        en += f" Part of the {collection.en} collection, for {season.en.lower()}."
        zh += f"属于{collection.zh}，适合{season.zh}。"
        return en, zh, attributes
