"""orders 0005: lines placed before the fix get the colour's name instead of its code."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps

from omnimall.orders.models import OrderLine
from tests.orders.factories import make_shop, place

pytestmark = pytest.mark.django_db
migration = importlib.import_module("omnimall.orders.migrations.0005_order_line_colour_names")


def _lines_with(*snapshots: tuple[str, str]) -> list[OrderLine]:
    shop = make_shop(skus=len(snapshots))
    placed = place(shop, quantities=(1,) * len(snapshots))
    lines = list(OrderLine.objects.filter(order_id=placed.order_id).order_by("pk"))
    for line, (product_name, variant) in zip(lines, snapshots, strict=True):
        OrderLine.objects.filter(pk=line.pk).update(product_name=product_name, variant=variant)
    return lines


def _variants(lines: list[OrderLine]) -> list[str]:
    return [OrderLine.objects.get(pk=line.pk).variant for line in lines]


def test_codes_to_names_names_the_colour_in_the_language_of_the_product_name():
    lines = _lines_with(
        ("Cotton Tee", "red / M"),
        ("纯棉T恤", "navy / XL"),
        ("Cap", "black"),
        ("Socks", "M"),  # no colour
        ("Scarf", "teal / ONE"),  # not a colour code of the catalogue
        ("Linen Shirt", "Red / L"),  # placed after the fix
    )

    migration.codes_to_names(apps, None)

    assert _variants(lines) == [
        "Red / M",
        "藏青色 / XL",
        "Black",
        "M",
        "teal / ONE",
        "Red / L",
    ]


def test_names_to_codes_undoes_it():
    lines = _lines_with(("Cotton Tee", "red / M"), ("纯棉T恤", "navy / XL"), ("Cap", "black"))
    migration.codes_to_names(apps, None)

    migration.names_to_codes(apps, None)

    assert _variants(lines) == ["red / M", "navy / XL", "black"]
