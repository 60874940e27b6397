"""Search reads shared by the storefront's search page and the Store API.

CONTRACT (the storefront codes against these names): ``search_listing``, ``SearchPage``,
``suggest``, ``Suggestion``.

Speed: ranked ids are cached per (index version, query) and suggestions per (catalog
version, index version, query), so a repeated search costs one version query plus the
catalog's (cached) page; a new one costs one index query more.
"""

from __future__ import annotations

import hashlib
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Literal
from urllib.parse import quote

from django.core.cache import cache
from django.db.models import CharField, Value
from django.utils.translation import get_language

from omnimall.catalog import selectors as catalog_selectors
from omnimall.catalog.models import Brand, Category
from omnimall.core import cache_versions

from .backends import get_backend
from .domain import (
    QueryTerm,
    cjk_fallback,
    has_cjk,
    is_latin_term,
    normalise_query,
    parse_query,
    tokenize,
)
from .models import SearchTerm

RESULT_LIMIT = 1000  # ranked ids handed to the listing; nobody pages past this
MAX_SUGGESTIONS = 6  # alternative queries offered when nothing was found
_CACHE_TIMEOUT = 10 * 60  # keys carry the index version; this only bounds memory
_SEARCH_NS, _CATALOG_NS = "search", "catalog"  # cache version namespaces
_LISTING_PARAMS = ("brand", "size", "colour", "price", "sort", "cursor", "page_size")


@dataclass(frozen=True, slots=True)
class SearchPage:
    query: str  # normalised: trimmed, single spaces, at most 100 characters
    page: catalog_selectors.ProductPage
    corrected_query: str | None  # "sneakers" when "sneakr" found nothing as typed
    suggestions: tuple[str, ...]  # alternative queries when nothing was found
    # The text itself matched nothing (not merely the facets emptied the page): the
    # searches the team should see in the zero-result list.
    text_found_nothing: bool = False


@dataclass(frozen=True, slots=True)
class Suggestion:
    text: str
    kind: Literal["product", "category", "brand"]
    url: str


@dataclass(frozen=True, slots=True)
class _Ranked:
    ids: tuple[int, ...]
    corrected_query: str | None
    alternatives: tuple[str, ...]  # close vocabulary terms, when nothing was found


def _key(*parts: object) -> str:
    text = "\x1f".join(str(p) for p in parts)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def _versions(request: object | None = None) -> tuple[int, int]:
    """(search index version, catalog version) in one query, memoised on the request
    where the catalog's own listing code finds it too."""
    found = cache_versions.current_versions((_SEARCH_NS, _CATALOG_NS), request)
    return found[_SEARCH_NS], found[_CATALOG_NS]


def _params_key(params: Mapping[str, list[str]]) -> str:
    parts = []
    for name in _LISTING_PARAMS:
        raw = params.get(name) or []
        values = [raw] if isinstance(raw, str) else [v for v in raw if isinstance(v, str)]
        parts.append(f"{name}={values[:100]!r}")
    return "&".join(parts)


def _empty_page(sort: str = "relevance") -> catalog_selectors.ProductPage:
    return catalog_selectors.ProductPage((), (), 0, 1, 1, None, None, sort)


# --- search -------------------------------------------------------------------------------


def search_listing(
    q: str, params: Mapping[str, list[str]], *, request: object | None = None
) -> SearchPage:
    """One page of search results with the listing's facets, sorting and cursors.

    Blank or symbol-only text gives an empty page, never an error. Default sort: relevance.
    """
    query = normalise_query(q)
    terms = parse_query(query)
    if not terms:
        return SearchPage(query=query, page=_empty_page(), corrected_query=None, suggestions=())
    version, catalog_version = _versions(request)
    # The whole result, per index and catalog version: a repeated search (the common case:
    # popular queries, paging back) costs the one version query above.
    digest = _key(get_language(), query, _params_key(params))
    page_key = f"search:page:{version}:{catalog_version}:{digest}"
    result: SearchPage | None = cache.get(page_key)
    if result is not None:
        return result
    ranked = _ranked(terms, version)
    listing_query = catalog_selectors.parse_listing_query(params, product_ids=ranked.ids)
    if not ranked.ids:
        result = SearchPage(
            query=query,
            page=_empty_page(listing_query.sort),
            corrected_query=None,
            suggestions=_alternatives(ranked.alternatives, request=request),
            text_found_nothing=True,
        )
    else:
        page = catalog_selectors.list_products(listing_query, request=request)
        result = SearchPage(
            query=query, page=page, corrected_query=ranked.corrected_query, suggestions=()
        )
    cache.set(page_key, result, _CACHE_TIMEOUT)
    return result


def _ranked(terms: Sequence[QueryTerm], version: int) -> _Ranked:
    # Keyed by the terms: "Sneakers", "sneakers " and "SNEAKERS" share one ranking.
    key = f"search:ranked:{version}:{_key(*(f'{t.text}:{t.prefix:d}' for t in terms))}"
    ranked: _Ranked | None = cache.get(key)
    if ranked is not None:
        return ranked
    backend = get_backend()
    ids = backend.match(terms, limit=RESULT_LIMIT)
    corrected_query: str | None = None
    alternatives: tuple[str, ...] = ()
    if not ids:
        corrected, alternatives = _correct(terms, version)
        if corrected and corrected != tuple(terms):
            ids = backend.match(corrected, limit=RESULT_LIMIT)
            if ids:
                corrected_query = " ".join(t.text for t in corrected)
    ranked = _Ranked(ids=tuple(ids), corrected_query=corrected_query, alternatives=alternatives)
    cache.set(key, ranked, _CACHE_TIMEOUT)
    return ranked


def _correct(
    terms: Sequence[QueryTerm], version: int
) -> tuple[tuple[QueryTerm, ...], tuple[str, ...]]:
    """The query with unknown terms replaced by their nearest known ones (or dropped), and
    the close terms found on the way."""
    wanted = {t.text for t in terms} | {ch for t in terms for ch in t.text if has_cjk(ch)}
    known = set(
        SearchTerm.objects.filter(term__in=wanted, doc_count__gt=0).values_list("term", flat=True)
    )
    backend = get_backend()
    corrected: list[QueryTerm] = []
    alternatives: list[str] = []
    for term in terms:
        if term.text in known:
            corrected.append(term)
            continue
        replacement: str | None = None
        if is_latin_term(term.text):
            close = backend.closest_terms(term.text, limit=3, version=version)
            alternatives.extend(close)
            replacement = close[0] if close else None
        elif has_cjk(term.text):
            replacement = cjk_fallback(term.text, known)
        corrected.extend(QueryTerm(text=w, prefix=False) for w in (replacement or "").split())
    if len(terms) > 1 and all(t.text in known for t in terms):
        # Every word exists but not together ("red sneakers"): offer each on its own.
        alternatives.extend(t.text for t in terms)
    return tuple(dict.fromkeys(corrected)), tuple(dict.fromkeys(alternatives))


def _alternatives(close_terms: Sequence[str], *, request: object | None) -> tuple[str, ...]:
    """Close vocabulary terms first, then the shop's featured (or top) categories."""
    out = list(close_terms)
    tree = catalog_selectors.get_category_tree(request=request)
    featured = [node for root in tree for node in (root, *root.children) if node.is_featured]
    out.extend(node.name for node in featured or list(tree))
    return tuple(dict.fromkeys(out))[:MAX_SUGGESTIONS]


# --- suggestions --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Named:
    kind: Literal["category", "brand"]
    name_en: str
    name_zh: str
    url: str
    terms: frozenset[str]  # Latin words of the English name
    chinese: str  # the Chinese name, folded: Chinese terms match inside it

    def matches(self, term: str) -> bool:
        if has_cjk(term):
            return term in self.chinese
        return any(word.startswith(term) for word in self.terms)


_named_lock = threading.Lock()
_named_memo: dict[str, tuple[int, tuple[_Named, ...]]] = {}


def _named_entries(catalog_version: int, hidden: frozenset[int]) -> tuple[_Named, ...]:
    """Visible categories and active brands with their terms, per process and catalog
    version (``hidden``: the categories shoppers cannot see, for that version)."""
    memo = _named_memo.get("entries")
    if memo is not None and memo[0] == catalog_version:
        return memo[1]
    text = CharField()
    categories = (
        Category.objects.filter(is_active=True)
        .exclude(pk__in=hidden)
        .order_by()
        .values_list("name_en", "name_zh", "full_slug", "path", Value("category", text))
    )
    brands = (
        Brand.objects.filter(is_active=True)
        .order_by()
        .values_list("name_en", "name_zh", "slug", Value("", text), Value("brand", text))
    )
    rows = list(categories.union(brands, all=True))  # one query
    step = Category.steplen
    names_by_path = {path: (en, zh) for en, zh, _, path, kind in rows if kind == "category"}
    repeated = Counter(en for en, _, _, _, kind in rows if kind == "category")
    entries = []
    for name_en, name_zh, slug, path, kind in rows:
        # No jieba here: Latin-only traffic never pays its start-up (about 1 s, 90 MB).
        terms = frozenset(tokenize(name_en) + (() if has_cjk(name_zh) else tokenize(name_zh)))
        chinese = name_zh.lower()
        if kind == "brand":
            url = f"/search/?q={quote(name_en or name_zh)}"
            entries.append(_Named("brand", name_en, name_zh, url, terms, chinese))
            continue
        parent = names_by_path.get(path[:-step]) if len(path) > step else None
        if repeated[name_en] > 1 and parent:
            # "Sneakers" under Men and under Women: say which one ("Men › Sneakers").
            name_en, name_zh = f"{parent[0]} › {name_en}", f"{parent[1]} › {name_zh}"
        entries.append(_Named("category", name_en, name_zh, f"/c/{slug}/", terms, chinese))
    entries.sort(key=lambda e: (e.kind != "category", e.url.count("/"), e.name_en))
    with _named_lock:
        _named_memo["entries"] = (catalog_version, tuple(entries))
    return tuple(entries)


def suggest(q: str, *, limit: int = 8, request: object | None = None) -> tuple[Suggestion, ...]:
    """Categories, brands and products whose names start with what was typed so far.

    At most 4 queries (versions; categories + brands and the catalog tree when not cached;
    products).
    """
    query = normalise_query(q)
    terms = parse_query(query, typing=True)
    limit = max(1, min(limit, 20))
    if not terms:
        return ()
    # Outside a request (tasks, tests) a per-call memo still reads each version once.
    request = request if request is not None else SimpleNamespace()
    version, catalog_version = _versions(request)
    key = f"search:suggest:{version}:{catalog_version}:{limit}:{_key(query.lower())}"
    cached: tuple[Suggestion, ...] | None = cache.get(key)
    if cached is not None:
        return cached
    zh = has_cjk(query)  # answer in the script the shopper types in
    out: list[Suggestion] = []
    hidden = catalog_selectors.get_hidden_category_ids(request=request)
    for entry in _named_entries(catalog_version, hidden):
        if all(entry.matches(t.text) for t in terms):
            text = (entry.name_zh or entry.name_en) if zh else (entry.name_en or entry.name_zh)
            out.append(Suggestion(text=text, kind=entry.kind, url=entry.url))
            if len(out) >= max(2, limit // 2):
                break
    shown = {s.text.casefold() for s in out}
    # Twice the rows: products sharing a name (one per colourway) are shown once.
    # One Latin letter names half the catalog: categories and brands only, until a second.
    rows = get_backend().match_titles(terms, limit=limit * 2) if zh or len(query) > 1 else []
    for slug, name_en, name_zh, category_id in rows:
        if category_id in hidden:
            continue
        text = (name_zh or name_en) if zh else (name_en or name_zh)
        if text.casefold() not in shown:
            shown.add(text.casefold())
            out.append(Suggestion(text=text, kind="product", url=f"/p/{slug}/"))
    result = tuple(out[:limit])
    cache.set(key, result, _CACHE_TIMEOUT)
    return result
