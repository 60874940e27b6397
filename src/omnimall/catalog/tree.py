"""The category tree, loaded in one query and cached per catalog version.

Inactive categories hide their whole subtree. Besides the nested nodes, the index holds
the lookups listings need (by URL path, ancestors, subtree ids), built once per process.
"""

from __future__ import annotations

import threading
import uuid

from django.core.cache import cache
from django.core.signals import request_finished, request_started

from omnimall.core.cache_versions import current_version

from .models import Category
from .readmodels import CategoryNode

# The namespace catalog.services bumps on every change (selectors may not import services).
CATALOG_CACHE_NAMESPACE = "catalog"
CACHE_TIMEOUT = 60 * 60  # keys carry the catalog version, so this only bounds memory


class CategoryIndex:
    """The cached tree plus lookups derived from it (built once per process and version)."""

    __slots__ = ("ancestors", "by_id", "by_slug", "hidden_ids", "roots", "subtree_ids")

    def __init__(self, roots: tuple[CategoryNode, ...], hidden_ids: tuple[int, ...]) -> None:
        self.roots = roots
        self.hidden_ids = hidden_ids
        self.by_id: dict[int, CategoryNode] = {}
        self.by_slug: dict[str, CategoryNode] = {}
        self.ancestors: dict[int, tuple[CategoryNode, ...]] = {}
        self.subtree_ids: dict[int, tuple[int, ...]] = {}
        for root in roots:
            self._walk(root, ())

    def _walk(self, node: CategoryNode, ancestors: tuple[CategoryNode, ...]) -> tuple[int, ...]:
        self.by_id[node.id] = node
        self.by_slug[node.full_slug] = node
        self.ancestors[node.id] = ancestors
        ids = [node.id]
        for child in node.children:
            ids.extend(self._walk(child, (*ancestors, node)))
        self.subtree_ids[node.id] = tuple(ids)
        return self.subtree_ids[node.id]


def load_tree() -> tuple[tuple[CategoryNode, ...], tuple[int, ...]]:
    """Every category in one query; inactive ones hide their whole subtree."""
    rows = list(
        Category.objects.order_by("path").values_list(
            "id",
            "path",
            "depth",
            "slug",
            "full_slug",
            "name_en",
            "name_zh",
            "is_featured",
            "is_active",
        )
    )
    step = Category.steplen
    visible = set()
    for _id, path, depth, *_rest, active in rows:
        if active and (depth == 1 or path[:-step] in visible):
            visible.add(path)
    children: dict[str, list[CategoryNode]] = {}
    hidden: list[int] = []
    # Reverse path order visits children before their parent, so nodes build bottom-up.
    for pk, path, depth, slug, full_slug, name_en, name_zh, featured, _active in reversed(rows):
        if path not in visible:
            hidden.append(pk)
            continue
        node = CategoryNode(
            id=pk,
            slug=slug,
            full_slug=full_slug,
            name_en=name_en,
            name_zh=name_zh,
            depth=depth,
            is_featured=featured,
            children=tuple(reversed(children.pop(path, []))),
        )
        children.setdefault(path[:-step], []).append(node)
    return tuple(reversed(children.get("", []))), tuple(sorted(hidden))


_index_memo: dict[str, tuple[tuple[str, int], CategoryIndex]] = {}
# While a request runs, this thread's catalog version and index are read once and reused:
# a page that shows the navigation bar, a category and a listing reads the version once.
# Outside requests (tasks, shells, tests calling selectors) every call reads it afresh.
_per_request = threading.local()


def _start_request(**_kwargs: object) -> None:
    _per_request.memo = {}


def _end_request(**_kwargs: object) -> None:
    _per_request.memo = None


request_started.connect(_start_request, dispatch_uid="omnimall.catalog.tree.start")
request_finished.connect(_end_request, dispatch_uid="omnimall.catalog.tree.end")


def catalog_version(request: object | None = None) -> int:
    """The catalog cache version: once per request (``request`` or the running request)."""
    if request is not None:
        return current_version(CATALOG_CACHE_NAMESPACE, request)
    memo: dict[str, object] | None = getattr(_per_request, "memo", None)
    if memo is None:
        return current_version(CATALOG_CACHE_NAMESPACE)
    if "version" not in memo:
        memo["version"] = current_version(CATALOG_CACHE_NAMESPACE)
    return memo["version"]  # type: ignore[return-value]


def category_index(version: int) -> CategoryIndex:
    memo: dict[str, object] | None = getattr(_per_request, "memo", None)
    found = memo.get(f"index:{version}") if memo is not None else None
    if isinstance(found, CategoryIndex):
        return found
    index = _process_index(version)
    if memo is not None:
        memo[f"index:{version}"] = index
    return index


def _process_index(version: int) -> CategoryIndex:
    # The per-process memo saves unpickling the tree on every request. Its key includes a
    # token kept in the shared cache, so clearing the cache also drops every process's memo.
    token = cache.get("catalog:memo-token")
    if token is None:
        token = uuid.uuid4().hex
        cache.set("catalog:memo-token", token, None)
    memo = _index_memo.get("tree")
    if memo is not None and memo[0] == (token, version):
        return memo[1]
    key = f"catalog:tree:{version}"
    loaded = cache.get(key)
    if loaded is None:
        loaded = load_tree()
        cache.set(key, loaded, CACHE_TIMEOUT)
    index = CategoryIndex(*loaded)
    _index_memo["tree"] = ((token, version), index)
    return index
