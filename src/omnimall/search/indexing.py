"""Building index rows from catalog rows, and keeping the vocabulary counts in step.

The index is a projection of the catalog: it reads catalog tables in bulk (read-only),
because the catalog selectors serve pages (one product, one listing), not feeds of
thousands of rows. Nothing here writes outside the search app's own tables.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import F, Value
from django.db.models.functions import Greatest

from omnimall.catalog.domain import COLOURS
from omnimall.catalog.models import Brand, Category, Product, Sku

from .domain import index_terms, is_latin_term
from .models import IndexedCategory, SearchDocument, SearchTerm

_CHUNK = 500  # ids per IN (...) clause: well inside SQLite's parameter limit


def chunked(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@dataclass(frozen=True, slots=True)
class Lookups:
    """Names shared by many products, loaded once per batch or per rebuild."""

    brands: Mapping[int, tuple[str, str]]
    category_paths: Mapping[int, tuple[str, ...]]  # names (en, zh) root first


def category_paths() -> dict[int, tuple[str, ...]]:
    rows = list(Category.objects.values_list("id", "path", "name_en", "name_zh"))
    names_by_path = {path: (en, zh) for _, path, en, zh in rows}
    step = Category.steplen
    paths: dict[int, tuple[str, ...]] = {}
    for category_id, path, _, _ in rows:
        names: list[str] = []
        for end in range(step, len(path) + 1, step):
            names.extend(names_by_path.get(path[:end], ()))
        paths[category_id] = tuple(names)
    return paths


def category_signatures(paths: Mapping[int, tuple[str, ...]]) -> dict[int, str]:
    return {
        cid: hashlib.sha1("\x1f".join(names).encode(), usedforsecurity=False).hexdigest()
        for cid, names in paths.items()
    }


def load_lookups(brand_ids: Iterable[int] | None = None) -> Lookups:
    brands = Brand.objects.all() if brand_ids is None else Brand.objects.filter(pk__in=brand_ids)
    return Lookups(
        brands={pk: (en, zh) for pk, en, zh in brands.values_list("id", "name_en", "name_zh")},
        category_paths=category_paths(),
    )


def _attribute_values(attributes: object) -> list[str]:
    if not isinstance(attributes, list):
        return []
    values: list[str] = []
    for item in attributes:
        if isinstance(item, dict):
            values.extend(str(v) for k, v in item.items() if str(k).startswith("value") and v)
    return values


def build_documents(
    product_ids: Sequence[int], lookups: Lookups | None = None
) -> list[SearchDocument]:
    """Documents of the ACTIVE products among ``product_ids`` (inactive ones get none)."""
    rows = list(
        Product.objects.filter(pk__in=product_ids, is_active=True).values_list(
            "id", "name_en", "name_zh", "brand_id", "category_id", "attributes"
        )
    )
    if not rows:
        return []
    if lookups is None:
        lookups = load_lookups({row[3] for row in rows})
    colours: dict[int, set[str]] = defaultdict(set)
    for product_id, colour in (
        Sku.objects.filter(product_id__in=[row[0] for row in rows], is_active=True)
        .exclude(colour="")
        .values_list("product_id", "colour")
        .distinct()
    ):
        colours[product_id].add(colour)
    documents = []
    for product_id, name_en, name_zh, brand_id, category_id, attributes in rows:
        title = index_terms((name_en, name_zh))
        body_texts: list[str] = [*lookups.brands.get(brand_id, ())]
        body_texts.extend(lookups.category_paths.get(category_id, ()))
        for code in sorted(colours[product_id]):
            known = COLOURS.get(code)
            body_texts.extend((code, known.name_en, known.name_zh) if known else (code,))
        body_texts.extend(_attribute_values(attributes))
        in_title = set(title)
        body = [term for term in index_terms(body_texts) if term not in in_title]
        documents.append(
            SearchDocument(product_id=product_id, title=" ".join(title), body=" ".join(body))
        )
    return documents


def apply_term_deltas(deltas: Mapping[str, int]) -> None:
    """Add ``deltas`` to the vocabulary's document counts; drop terms no document holds."""
    deltas = {term: d for term, d in deltas.items() if d}
    if not deltas:
        return
    # Concurrent re-indexing touches overlapping terms: insert and lock them in one fixed
    # (sorted) order so two transactions can never deadlock on the vocabulary.
    new_terms = sorted(t for t, d in deltas.items() if d > 0)
    SearchTerm.objects.bulk_create(
        [SearchTerm(term=t, doc_count=0, is_latin=is_latin_term(t)) for t in new_terms],
        ignore_conflicts=True,
        batch_size=_CHUNK,
    )
    if connection.features.has_select_for_update:  # SQLite serialises writers anyway
        for chunk in chunked(sorted(deltas), _CHUNK):
            rows = SearchTerm.objects.select_for_update().filter(term__in=chunk).order_by("term")
            list(rows.values_list("term", flat=True))
    by_delta: dict[int, list[str]] = defaultdict(list)
    for term, delta in deltas.items():
        by_delta[delta].append(term)
    for delta, terms in by_delta.items():
        for chunk in chunked(terms, _CHUNK):
            # An in-database increment, safe beside concurrent re-indexing; never below 0.
            SearchTerm.objects.filter(term__in=chunk).update(
                doc_count=Greatest(F("doc_count") + delta, Value(0))
            )
    gone = [t for t, d in deltas.items() if d < 0]
    for chunk in chunked(gone, _CHUNK):
        SearchTerm.objects.filter(term__in=chunk, doc_count=0).delete()


def replace_documents(product_ids: Sequence[int], lookups: Lookups | None = None) -> int:
    """Re-index ``product_ids``: write changed documents, drop those of gone products.

    Call inside a transaction. Returns how many documents were written or removed.
    """
    old = {doc.product_id: doc for doc in SearchDocument.objects.filter(product_id__in=product_ids)}
    new = {doc.product_id: doc for doc in build_documents(product_ids, lookups)}
    stale = [
        pid
        for pid, doc in old.items()
        if pid not in new or (new[pid].title, new[pid].body) != (doc.title, doc.body)
    ]
    fresh = [doc for pid, doc in new.items() if pid not in old or pid in stale]
    if not stale and not fresh:
        return 0
    deltas: Counter[str] = Counter()
    for pid in stale:
        deltas.subtract(old[pid].terms())
    for doc in fresh:
        deltas.update(doc.terms())
    SearchDocument.objects.filter(product_id__in=stale).delete()
    SearchDocument.objects.bulk_create(fresh, batch_size=_CHUNK)
    apply_term_deltas(deltas)
    return len(set(stale) | {doc.product_id for doc in fresh})


def store_category_signatures(signatures: Mapping[int, str], *, replace_all: bool) -> None:
    if replace_all:
        IndexedCategory.objects.all().delete()
    else:
        IndexedCategory.objects.filter(category_id__in=list(signatures)).delete()
    IndexedCategory.objects.bulk_create(
        [IndexedCategory(category_id=cid, signature=sig) for cid, sig in signatures.items()],
        batch_size=_CHUNK,
    )


def changed_categories(signatures: Mapping[int, str]) -> dict[int, str]:
    stored = dict(IndexedCategory.objects.values_list("category_id", "signature"))
    return {cid: sig for cid, sig in signatures.items() if stored.get(cid) != sig}


def active_product_ids() -> list[int]:
    return list(Product.objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True))


def product_ids_in_categories(category_ids: Iterable[int]) -> list[int]:
    return list(
        Product.objects.filter(category_id__in=list(category_ids))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def forget_categories_except(category_ids: Iterable[int]) -> None:
    IndexedCategory.objects.exclude(category_id__in=list(category_ids)).delete()
