"""Suite-wide fixtures: isolated media, a clean cache, fast password hashes, and the
browser for e2e tests."""

from __future__ import annotations

import importlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.cache import cache

from tests.browser import open_page

CHROMIUM = os.environ.get("OMNIMALL_CHROMIUM", "/usr/bin/chromium")
REQUIRE_ALL = os.environ.get("OMNIMALL_TEST_REQUIRE_ALL") == "1"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


@pytest.fixture(autouse=True)
def _isolated_media_and_cache(settings, tmp_path: Path) -> Iterator[None]:
    settings.MEDIA_ROOT = tmp_path / "media"
    # A password hash costs ~0.4 s of PBKDF2 on these machines; the tests check who may
    # sign in, not the hash's strength (Django's advice for test suites).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def published_tasks(monkeypatch) -> Iterator[list[tuple[str, object]]]:
    """As with a broker: tasks are published (recorded here as (name, kwargs)), not run
    inline."""
    from omnimall.celery import app

    sent: list[tuple[str, object]] = []
    monkeypatch.setattr(
        app, "send_task", lambda name, args=None, kwargs=None, **_: sent.append((name, kwargs))
    )
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        yield sent
    finally:
        app.conf.task_always_eager = eager


# Rows the data migrations create; a transactional test's flush removes them.
_MIGRATION_DATA = (
    ("omnimall.channels.migrations.0002_default_channels", "create_channels"),
    ("omnimall.catalog.migrations.0002_default_price_lists", "create_price_lists"),
    ("omnimall.members.migrations.0002_default_tiers", "create_tiers"),
)


@pytest.fixture(autouse=True)
def _migration_data_for_transactional_tests(request: pytest.FixtureRequest) -> None:
    """Put back what data migrations made, for tests marked ``django_db(transaction=True)``.

    Such tests truncate every table when they end, so the next one would otherwise start
    without the default sales channels, price lists and staff roles.
    """
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not marker.kwargs.get("transaction"):
        return
    request.getfixturevalue("transactional_db")
    from django.apps import apps

    from omnimall.core.roles import sync_roles

    for module, function in _MIGRATION_DATA:
        getattr(importlib.import_module(module), function)(apps, None)
    sync_roles()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        if REQUIRE_ALL:
            pytest.fail(f"Chromium not found at {CHROMIUM} and OMNIMALL_TEST_REQUIRE_ALL=1")
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    # Playwright's sync API refuses to run inside a running asyncio loop; Django's
    # async-unsafe check must be relaxed for the live server thread + sync Playwright.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser) -> Iterator[object]:
    with open_page(browser, locale="en-US", viewport={"width": 1280, "height": 900}) as pg:
        yield pg


@pytest.fixture
def page_without_javascript(browser) -> Iterator[object]:
    """The shop must work as plain pages too: links and forms, no scripts."""
    with open_page(browser, locale="en-US", java_script_enabled=False) as pg:
        yield pg


@pytest.fixture
def race_database(tmp_path: Path) -> Iterator[None]:
    """On SQLite, this test's connections use a file copy of the test database (races.py)."""
    from tests.races import database_on_file

    with database_on_file(tmp_path):
        yield
