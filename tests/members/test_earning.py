"""Earning rules: tier rate, excluded and boosted categories (with descendants) and brands,
date windows, and points only on what was paid in money."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from omnimall.members.domain import (
    MAX_EARN_MULTIPLIER,
    MAX_POINTS_PER_CNY,
    MAX_POINTS_PER_ENTRY,
)
from omnimall.members.models import EarnRule, EarnRuleKind, Tier
from omnimall.members.services.earning import load_earn_rules, paid_share, points_for_lines
from omnimall.pos import domain as pos_domain
from tests.catalog.factories import BrandFactory, make_category, make_product

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 27)


def sku_in(category, brand=None):
    return make_product(category=category, brand=brand).skus.get()


@pytest.fixture
def shop():
    root = make_category("earn-root")
    drinks = make_category("earn-drinks", parent=root)
    spirits = make_category("earn-spirits", parent=drinks)
    clothes = make_category("earn-clothes", parent=root)
    brand = BrandFactory()
    return {
        "plain": sku_in(clothes),
        "spirit": sku_in(spirits),
        "drink": sku_in(drinks),
        "branded": sku_in(clothes, brand),
        "drinks": drinks,
        "clothes": clothes,
        "brand": brand,
    }


def test_points_for_lines_without_rules_earns_the_tier_rate_rounded_down(shop):
    lines = [(shop["plain"].pk, Decimal("99.90")), (shop["drink"].pk, Decimal("10.00"))]

    assert points_for_lines(rate=Decimal("1.5"), lines=lines, on=TODAY) == [149, 15]


def test_points_for_lines_excludes_a_category_and_everything_below_it(shop):
    EarnRule.objects.create(name="no drinks", kind=EarnRuleKind.EXCLUDE, category=shop["drinks"])
    lines = [
        (shop["plain"].pk, Decimal("100")),
        (shop["spirit"].pk, Decimal("100")),
        (shop["drink"].pk, Decimal("100")),
    ]

    assert points_for_lines(rate=Decimal(1), lines=lines, on=TODAY) == [100, 0, 0]


def test_points_for_lines_boosts_a_brand_and_the_best_boost_wins(shop):
    EarnRule.objects.create(
        name="x2 brand", kind=EarnRuleKind.BOOST, brand=shop["brand"], multiplier=Decimal(2)
    )
    EarnRule.objects.create(
        name="x3 clothes", kind=EarnRuleKind.BOOST, category=shop["clothes"], multiplier=3
    )
    lines = [(shop["branded"].pk, Decimal("10")), (shop["drink"].pk, Decimal("10"))]

    assert points_for_lines(rate=Decimal(1), lines=lines, on=TODAY) == [30, 10]


def test_exclusion_wins_over_a_boost(shop):
    EarnRule.objects.create(
        name="x2 brand", kind=EarnRuleKind.BOOST, brand=shop["brand"], multiplier=Decimal(2)
    )
    EarnRule.objects.create(name="no brand", kind=EarnRuleKind.EXCLUDE, brand=shop["brand"])

    rules = load_earn_rules(on=TODAY, sku_ids=[shop["branded"].pk])

    assert rules.points_for(sku_id=shop["branded"].pk, amount=Decimal(50), rate=Decimal(1)) == 0


def test_a_rule_with_category_and_brand_needs_both(shop):
    EarnRule.objects.create(
        name="brand in drinks",
        kind=EarnRuleKind.EXCLUDE,
        category=shop["drinks"],
        brand=shop["brand"],
    )
    lines = [(shop["branded"].pk, Decimal("10")), (shop["drink"].pk, Decimal("10"))]

    assert points_for_lines(rate=Decimal(1), lines=lines, on=TODAY) == [10, 10]


def test_rules_count_only_when_active_and_inside_their_dates(shop):
    boost = {"kind": EarnRuleKind.BOOST, "category": shop["clothes"], "multiplier": Decimal(2)}
    EarnRule.objects.create(name="ended", ends_on=TODAY - timedelta(days=1), **boost)
    EarnRule.objects.create(name="future", starts_on=TODAY + timedelta(days=1), **boost)
    EarnRule.objects.create(name="off", is_active=False, **boost)
    lines = [(shop["plain"].pk, Decimal("10"))]

    assert points_for_lines(rate=Decimal(1), lines=lines, on=TODAY) == [10]
    EarnRule.objects.create(name="today", starts_on=TODAY, ends_on=TODAY, **boost)
    assert points_for_lines(rate=Decimal(1), lines=lines, on=TODAY) == [20]


def test_points_for_lines_earns_only_on_the_money_part(shop):
    lines = [(shop["plain"].pk, Decimal("60.00")), (shop["drink"].pk, Decimal("40.00"))]

    earned = points_for_lines(rate=Decimal(1), lines=lines, on=TODAY, points_value=Decimal("50.00"))

    assert earned == [30, 20]


def test_paid_share_stays_between_zero_and_one():
    lines = [(1, Decimal("10"))]

    assert paid_share(lines, Decimal("20")) == 0
    assert paid_share(lines, Decimal("-5")) == 1
    assert paid_share([], Decimal("0")) == 0
    assert points_for_lines(rate=Decimal(1), lines=[], on=TODAY) == []


def test_load_earn_rules_reads_rules_and_skus_in_two_queries(shop, django_assert_num_queries):
    EarnRule.objects.create(name="no drinks", kind=EarnRuleKind.EXCLUDE, category=shop["drinks"])
    ids = [shop["plain"].pk, shop["drink"].pk, shop["spirit"].pk]

    with django_assert_num_queries(2):
        rules = load_earn_rules(on=TODAY, sku_ids=ids)

    assert [rules.multiplier_for(i) for i in ids] == [1, 0, 0]


def test_the_bounds_of_the_settings_let_the_largest_receipt_earn_what_one_entry_holds():
    largest = pos_domain.MAX_AMOUNT * MAX_POINTS_PER_CNY * MAX_EARN_MULTIPLIER

    assert largest <= MAX_POINTS_PER_ENTRY < 2**31  # a PostgreSQL integer column


@pytest.mark.parametrize(("multiplier", "saved"), [("10.00", True), ("10.01", False)])
def test_earn_rule_admin_refuses_a_boost_above_ten_as_a_form_error(
    admin_client, shop, multiplier, saved
):
    response = admin_client.post(
        "/admin/members/earnrule/add/",
        {"name": "Big boost", "kind": "boost", "brand": shop["brand"].pk, "multiplier": multiplier},
    )

    assert response.status_code == (302 if saved else 200)
    assert EarnRule.objects.filter(name="Big boost").exists() is saved
    if not saved:
        errors = response.context["adminform"].form.errors
        assert list(errors) == ["multiplier"]
        assert "10" in errors["multiplier"][0]


@pytest.mark.parametrize(("rate", "saved"), [("10.00", True), ("10.01", False), ("9999.99", False)])
def test_tier_admin_refuses_a_rate_above_ten_points_per_cny_as_a_form_error(
    admin_client, rate, saved
):
    tier = Tier.objects.order_by("rank").first()
    form = {
        "code": tier.code,
        "name_en": tier.name_en,
        "name_zh": tier.name_zh,
        "rank": tier.rank,
        "min_spend": tier.min_spend,
        "points_per_cny": rate,
    }

    response = admin_client.post(f"/admin/members/tier/{tier.pk}/change/", form)

    tier_now = Tier.objects.get(pk=tier.pk)
    assert response.status_code == (302 if saved else 200)
    assert (tier_now.points_per_cny == Decimal(rate)) is saved
    if not saved:
        errors = response.context["adminform"].form.errors
        assert list(errors) == ["points_per_cny"]
