"""A guest's orders kept in the account they sign in to (``orders.services.adoption``)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from omnimall.members.services.identity import enrol_member
from omnimall.orders.models import Order, OrderEvent, OrderEventKind
from omnimall.orders.services.adoption import adopt_guest_orders
from tests.orders.factories import ACTOR, make_shop, pay, place

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _quiet(settings):
    settings.OUTBOX_DELIVER_ON_COMMIT = False


@pytest.fixture
def shop():
    return make_shop(units=20)


def account(email="shopper@example.com"):
    return get_user_model().objects.create_user(email, email=email, password="pw-123456!")


def tokens_of(*orders: Order) -> dict[str, str]:
    return {order.number: order.guest_token for order in orders}


def test_orders_with_the_accounts_email_and_a_token_held_are_kept_in_the_account(shop):
    placed = [Order.objects.get(pk=place(shop, email="Shopper@Example.com").order_id) for _ in "ab"]
    user = account()

    kept = adopt_guest_orders(user=user, tokens=tokens_of(*placed))

    assert kept == [order.number for order in placed]
    assert set(Order.objects.filter(user=user).values_list("number", flat=True)) == set(kept)
    events = OrderEvent.objects.filter(kind=OrderEventKind.ACCOUNT)
    assert sorted(e.order_id for e in events) == sorted(o.pk for o in placed)
    assert {e.actor_label for e in events} == {"shopper@example.com"}
    assert adopt_guest_orders(user=user, tokens=tokens_of(*placed)) == []  # once


def test_another_email_a_wrong_token_or_an_owned_order_is_left_alone(shop):
    other_email = Order.objects.get(pk=place(shop, email="someone@example.com").order_id)
    wrong_token = Order.objects.get(pk=place(shop).order_id)
    owner = account("owner@example.com")
    owned = Order.objects.get(pk=place(shop, user=owner).order_id)
    user = account()

    kept = adopt_guest_orders(
        user=user,
        tokens={
            **tokens_of(other_email, owned),
            wrong_token.number: wrong_token.guest_token[::-1],
        },
    )

    assert kept == []
    assert not Order.objects.filter(user=user).exists()
    assert Order.objects.get(pk=owned.pk).user_id == owner.pk


def test_an_order_awaiting_payment_earns_points_for_the_accounts_member_once_paid(shop):
    order = Order.objects.get(pk=place(shop, email="member@example.com").order_id)
    user = account("member@example.com")
    member = enrol_member(phone="+8613912345678", actor=ACTOR, user_id=user.pk)

    adopt_guest_orders(user=user, tokens=tokens_of(order))
    paid = pay(order.pk)

    member.refresh_from_db()
    assert paid.points_earned > 0
    assert member.points_pending == paid.points_earned
