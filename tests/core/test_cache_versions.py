"""Cache namespace versions: a bump invalidates, and a rolled-back bump's number is never
handed out again."""

from __future__ import annotations

import pytest
from django.db import transaction

from omnimall.core.cache_versions import bump_version, current_version

pytestmark = pytest.mark.django_db


def test_a_bump_moves_the_version_on():
    first = current_version("catalog")
    bump_version("catalog")
    second = current_version("catalog")
    bump_version("catalog")

    assert first < second < current_version("catalog")
    assert current_version("search") == 0  # other namespaces untouched


def test_a_rolled_back_bump_leaves_its_number_unused():
    bump_version("catalog")
    before = current_version("catalog")
    seen_inside: list[int] = []

    def bump_then_fail() -> None:
        with transaction.atomic():
            bump_version("catalog")
            seen_inside.append(current_version("catalog"))  # it may cache under this
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        bump_then_fail()
    assert current_version("catalog") == before

    bump_version("catalog")

    assert current_version("catalog") not in (before, *seen_inside)
