"""Whole-page cache for the public catalog pages (home, category, product, sitemap).

A page is cached under its language, full URL (path + query string), whether HTMX asked
for it, and the versions of what it shows (the catalog version, bumped in the database by
every catalog or price write). A hit therefore costs one primary-key query and one cache
read, and a change is visible on every worker at its next request: nothing is served stale.

Pages cached here must hold nothing specific to one visitor: no CSRF token (the language
switch is CSRF-exempt for that reason, see ``views.set_language``), no cart, no user name.
Later visitor-specific parts load as separate HTMX fragments.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable, Sequence
from functools import wraps
from typing import Any

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.template.response import SimpleTemplateResponse
from django.utils.translation import get_language

from omnimall.core.cache_versions import current_versions

# A day: long enough to matter, short enough that an orphaned version's pages age out.
PAGE_TTL_SECONDS = 24 * 3600
View = Callable[..., HttpResponse]


def _page_key(request: HttpRequest, versions: dict[str, int]) -> str:
    raw = "\x1f".join(
        (
            get_language() or "",
            request.headers.get("HX-Request", ""),
            request.get_full_path(),
            repr(sorted(versions.items())),
        )
    )
    return "page:" + hashlib.blake2b(raw.encode(), digest_size=20).hexdigest()


def cached_page(*, namespaces: Sequence[str]) -> Callable[[View], View]:
    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in ("GET", "HEAD"):
                return view(request, *args, **kwargs)
            key = _page_key(request, current_versions(namespaces, request))
            hit = cache.get(key)
            if hit is not None:
                content_type, packed = hit
                return HttpResponse(zlib.decompress(packed), content_type=content_type)
            response = view(request, *args, **kwargs)
            if isinstance(response, SimpleTemplateResponse) and not response.is_rendered:
                response.render()  # e.g. the sitemap views answer lazily rendered responses
            # Only plain successful pages: a 404 for junk URLs must not fill the cache, and
            # a response that sets a cookie is specific to its visitor.
            if response.status_code == 200 and not response.streaming and not response.cookies:
                # Compressed (about 8x for HTML, ~0.1 ms): a worker's memory or Redis holds
                # thousands of pages in the space of hundreds.
                packed = zlib.compress(response.content, 1)
                cache.set(key, (response["Content-Type"], packed), PAGE_TTL_SECONDS)
            return response

        return wrapper

    return decorator
