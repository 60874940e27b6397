"""Browser pages for the tests that drive Chromium (the browser itself: tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def open_page(browser, **context_options: object) -> Iterator[object]:
    """A page in a context of its own (no cookies or storage shared with other tests)."""
    context = browser.new_context(**context_options)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        yield page
    finally:
        context.close()
