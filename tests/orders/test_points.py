"""Online orders and the points ledger: hold at placement, commit and earn (pending) on
payment, mature on completion, release on an unpaid cancel, restore + reverse on refunds
and returns with the gateway refunding only the money part."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from itertools import count

import pytest
from django.contrib.auth import get_user_model

from omnimall.core import clock
from omnimall.core.actors import Actor
from omnimall.core.errors import DomainError
from omnimall.members.models import (
    HoldState,
    Member,
    MemberPurchase,
    PointsEntry,
    PointsEntryKind,
    PointsHold,
)
from omnimall.members.selectors.points import ledger_mismatches
from omnimall.members.services import points as ledger
from omnimall.members.services.identity import enrol_member
from omnimall.orders import domain
from omnimall.orders.attribution import credit_store_for
from omnimall.orders.errors import DeliveryFeeDiffersError
from omnimall.orders.models import CreditReason, Order, OrderEvent, OrderEventKind
from omnimall.orders.services import cancellation, completion, refunds, returns
from omnimall.orders.services import points as order_points
from omnimall.orders.services.fulfilment import confirm_delivery
from omnimall.orders.services.readdress import change_ship_to
from omnimall.payments.models import Payment, Refund
from tests.members.test_points_factories import give_points
from tests.orders.factories import make_shop, pay, place, ship_all
from tests.orders.test_readdress import HANGZHOU

STAFF = Actor.system("staff test")
_phones = count(1)


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.OUTBOX_DELIVER_ON_COMMIT = False
    settings.RETURN_WINDOW_DAYS = 14
    settings.POINTS_PER_CNY_VALUE = 100
    settings.POINTS_MAX_SHARE = "0.50"


def make_member(*, points: int = 10_000, home_store_id: int | None = None):
    n = next(_phones)
    user = get_user_model().objects.create_user(
        username=f"member{n}", email=f"member{n}@example.com", password="pw-123456!"
    )
    member = enrol_member(
        phone=f"+86139{n:08d}", actor=STAFF, user_id=user.pk, home_store_id=home_store_id
    )
    if points:
        give_points(member, points, f"test:{member.pk}:gift", document="gift", actor=STAFF)
    return user, Member.objects.get(pk=member.pk)


def balances(member: Member) -> tuple[int, int, int]:
    member.refresh_from_db()
    return member.points_available, member.points_held, member.points_pending


def place_with_points(shop, user, member, points: int, **kwargs):
    # 59.90 × (1 + 2) = 179.70: at most 8985 points (50 %).
    return place(shop, user=user, points=points, member_id=member.pk, **kwargs)


def delivered(order: Order) -> Order:
    ship_all(order)
    return confirm_delivery(order_id=order.pk, actor=STAFF)


@pytest.fixture
def shop(db):
    return make_shop(units=20)


# --- placement ---------------------------------------------------------------------------


def test_place_order_holds_points_and_asks_the_gateway_for_the_rest(shop):
    user, member = make_member()

    placed = place_with_points(shop, user, member, 5000)

    order = Order.objects.get(pk=placed.order_id)
    assert (order.points_used, order.points_value, order.total) == (
        5000,
        Decimal("50.00"),
        Decimal("179.70"),
    )
    assert Payment.objects.get(order_id=order.pk).amount == Decimal("129.70")
    assert placed.amount_due == Decimal("129.70")
    assert balances(member) == (5000, 5000, 0)
    hold = PointsHold.objects.get(source_key=f"order:{order.number}:hold")
    assert hold.state == HoldState.HELD
    assert hold.reference == order.number
    assert ledger_mismatches() == []


def test_place_order_refuses_more_than_the_share_and_writes_nothing(shop):
    user, member = make_member(points=20_000)

    with pytest.raises(DomainError) as refused:
        place_with_points(shop, user, member, 8986)

    assert refused.value.code == "points_over_limit"
    assert Order.objects.count() == 0
    assert balances(member) == (20_000, 0, 0)


def test_member_paying_refuses_more_points_than_the_member_has(shop):
    user, _member = make_member(points=100)

    with pytest.raises(DomainError) as refused:
        order_points.member_paying(user_id=user.pk, points=101, total=Decimal("179.70"))

    assert refused.value.code == "insufficient_points"
    assert refused.value.status == 409


def test_member_paying_refuses_a_guest_and_a_non_member(db):
    plain = get_user_model().objects.create_user(username="plain", password="pw-123456!")

    for user_id in (None, plain.pk):
        with pytest.raises(DomainError) as refused:
            order_points.member_paying(user_id=user_id, points=1, total=Decimal("100.00"))
        assert refused.value.code == "points_need_member"
    assert order_points.member_paying(user_id=None, points=0, total=Decimal("100.00")) is None


# --- payment, completion -----------------------------------------------------------------


def test_payment_commits_the_hold_and_earns_pending_on_the_money_part(shop):
    user, member = make_member()
    placed = place_with_points(shop, user, member, 5000)

    order = pay(placed.order_id)

    # Standard tier: 1 point per CNY on 129.70 of 179.70 paid in money.
    lines = [Decimal("59.90"), Decimal("119.80")]
    expected = sum(int(amount * Decimal("129.70") / Decimal("179.70")) for amount in lines)
    assert order.state in domain.PAID_STATES
    assert order.amount_paid == Decimal("129.70")
    assert order.points_earned == expected
    assert balances(member) == (5000, 0, expected)
    assert PointsEntry.objects.get(source_key=f"order:{order.number}:spend").kind == (
        PointsEntryKind.SPEND
    )
    purchase = MemberPurchase.objects.get(source_key=f"order:{order.number}:purchase")
    assert (purchase.amount, purchase.channel) == (Decimal("179.70"), "online")
    assert ledger_mismatches() == []


def test_a_repeated_notification_earns_once(shop):
    from omnimall.orders.services import payment
    from tests.orders.factories import notification

    user, member = make_member()
    order = pay(place_with_points(shop, user, member, 1000).order_id)

    assert payment.settle_notification(
        gateway="sandbox", params=notification(order.pk), remote_addr=None
    )

    assert PointsEntry.objects.filter(document=order.number, kind="earn").count() == 1
    assert balances(member)[2] == Order.objects.get(pk=order.pk).points_earned


def test_a_member_paying_only_money_earns_on_the_whole_total(shop):
    user, member = make_member(points=0)

    order = pay(place(shop, user=user).order_id)

    assert order.points_earned == 59 + 119
    assert balances(member) == (0, 0, 178)


def test_a_guest_order_touches_no_points(shop):
    order = pay(place(shop).order_id)

    assert order.points_earned == 0
    assert not OrderEvent.objects.filter(order=order, message=order_points.POINTS_EVENT).exists()


def test_a_lapsed_hold_is_spent_anew_at_payment(shop):
    user, member = make_member()
    placed = place_with_points(shop, user, member, 5000)
    hold = PointsHold.objects.get(source_key=f"order:{placed.number}:hold")
    ledger.release_hold(hold_id=hold.pk, actor=STAFF, reason="lapsed")

    order = pay(placed.order_id)

    assert not order.needs_attention
    entry = PointsEntry.objects.get(source_key=f"order:{order.number}:spend")
    assert entry.available_delta == -5000
    assert balances(member) == (5000, 0, order.points_earned)
    assert ledger_mismatches() == []


def test_points_gone_at_payment_flag_the_order(shop):
    user, member = make_member(points=5000)
    placed = place_with_points(shop, user, member, 5000)
    hold = PointsHold.objects.get(source_key=f"order:{placed.number}:hold")
    ledger.release_hold(hold_id=hold.pk, actor=STAFF, reason="lapsed")
    ledger.spend_points(
        member_id=member.pk, points=4000, source_key="till:spent", document="R1", actor=STAFF
    )

    order = pay(placed.order_id)

    assert order.needs_attention
    assert OrderEvent.objects.filter(order=order, kind=OrderEventKind.PROBLEM).exists()
    assert not PointsEntry.objects.filter(source_key=f"order:{order.number}:spend").exists()
    assert balances(member)[0] == 1000
    assert ledger_mismatches() == []


def test_completion_makes_the_pending_points_available(shop):
    user, member = make_member()
    order = delivered(pay(place_with_points(shop, user, member, 5000).order_id))

    done = completion.complete_orders(now=clock.now() + timedelta(days=15))

    assert done == 1
    assert balances(member) == (5000 + order.points_earned, 0, 0)
    assert ledger_mismatches() == []


# --- cancellation, refunds, returns ------------------------------------------------------


def test_cancelling_an_unpaid_order_releases_the_hold(shop):
    user, member = make_member()
    placed = place_with_points(shop, user, member, 5000)

    cancellation.cancel_order(
        order_id=placed.order_id, actor=STAFF, reason="changed my mind", by_shopper=True
    )

    assert balances(member) == (10_000, 0, 0)
    hold = PointsHold.objects.get(source_key=f"order:{placed.number}:hold")
    assert hold.state == HoldState.RELEASED
    assert ledger_mismatches() == []


def test_expired_unpaid_orders_give_their_points_back(shop):
    user, member = make_member()
    place_with_points(shop, user, member, 3000)

    cancellation.expire_unpaid_orders(now=clock.now() + timedelta(hours=1))

    assert balances(member) == (10_000, 0, 0)


def test_cancelling_a_paid_order_restores_points_and_reverses_the_earn(shop):
    user, member = make_member()
    order = pay(place_with_points(shop, user, member, 5000).order_id)

    cancellation.cancel_order(order_id=order.pk, actor=STAFF, reason="oversold", by_shopper=False)

    order.refresh_from_db()
    assert order.state == domain.CANCELLED
    assert order.amount_refunded == Decimal("129.70")
    assert Refund.objects.get(payment__order_id=order.pk).amount == Decimal("129.70")
    assert balances(member) == (10_000, 0, 0)
    assert ledger_mismatches() == []


def received_return(order, lines, location):
    """A return of ``lines`` requested, approved and received at ``location``."""
    request = returns.request_return(order_id=order.pk, lines=lines, reason="too big", actor=STAFF)
    returns.approve_return(return_id=request.pk, actor=STAFF)
    returns.receive_return(return_id=request.pk, location_id=location.pk, actor=STAFF)
    return request


def test_returns_in_parts_refund_money_and_points_exactly(shop):
    user, member = make_member()
    order = delivered(pay(place_with_points(shop, user, member, 5000).order_id))
    earned = order.points_earned
    store = shop.store
    line_one, line_two = list(order.lines.order_by("pk"))  # 1 × 59.90, 2 × 59.90

    money = []
    for wanted in ([(line_two.pk, 1)], [(line_one.pk, 1)], [(line_two.pk, 1)]):
        request = received_return(order, wanted, store)
        refunded = returns.refund_return(return_id=request.pk, actor=STAFF)
        money.append(refunded.refund_amount)

    order.refresh_from_db()
    # 59.90 × 129.70 / 179.70 = 43.233… → 43.23, then cumulative 86.47, 129.70.
    assert money == [Decimal("43.23"), Decimal("43.24"), Decimal("43.23")]
    assert sum(money) == order.amount_paid == order.amount_refunded == Decimal("129.70")
    assert order.state == domain.RETURNED
    assert sorted(r.amount for r in Refund.objects.filter(payment__order_id=order.pk)) == sorted(
        money
    )
    restored = PointsEntry.objects.filter(
        document=order.number, kind=PointsEntryKind.REVERSE, available_delta__gt=0
    )
    assert sum(e.available_delta for e in restored) == 5000
    reversed_ = PointsEntry.objects.filter(
        document=order.number, kind=PointsEntryKind.REVERSE, pending_delta__lt=0
    )
    assert -sum(e.pending_delta for e in reversed_) == earned
    assert balances(member) == (10_000, 0, 0)
    purchases = MemberPurchase.objects.filter(document=order.number)
    assert sum(p.amount for p in purchases) == Decimal("0.00")
    assert ledger_mismatches() == []


def test_a_returns_refund_above_the_orders_value_is_refused_not_capped(shop):
    """A typo (100000 for one unit) must not refund the whole order's money and points."""
    user, member = make_member()
    order = delivered(pay(place_with_points(shop, user, member, 5000).order_id))
    line = order.lines.order_by("pk").first()
    request = received_return(order, [(line.pk, 1)], shop.store)

    with pytest.raises(DomainError) as refused:
        returns.refund_return(return_id=request.pk, actor=STAFF, amount=Decimal("100000"))

    assert refused.value.code == "refund_exceeds_paid"
    order.refresh_from_db()
    assert order.amount_refunded == Decimal("0.00")
    assert not Refund.objects.filter(payment__order_id=order.pk).exists()
    assert balances(member)[0] == 5000  # the points spent stay spent
    assert returns.refund_return(return_id=request.pk, actor=STAFF).refund_amount == Decimal(
        "43.23"
    )


def test_a_partial_refund_restores_its_share_once(shop):
    user, member = make_member()
    order = delivered(pay(place_with_points(shop, user, member, 5000).order_id))

    first = refunds.refund_order(
        order_id=order.pk, amount=Decimal("64.85"), reason="damaged", actor=STAFF, refund_no="X1"
    )
    again = refunds.refund_order(
        order_id=order.pk, amount=Decimal("64.85"), reason="damaged", actor=STAFF, refund_no="X1"
    )

    assert again.replayed
    assert not first.replayed
    # 64.85 of 129.70 paid in money: half the points come back.
    assert balances(member)[0] == 5000 + 2500
    assert balances(member)[2] == order.points_earned - (order.points_earned + 1) // 2  # half up
    assert ledger_mismatches() == []


def test_a_partly_returned_order_completes_and_matures_the_rest(shop):
    user, member = make_member()
    order = delivered(pay(place_with_points(shop, user, member, 5000).order_id))
    line_one = order.lines.order_by("pk").first()
    request = returns.request_return(
        order_id=order.pk, lines=[(line_one.pk, 1)], reason="too big", actor=STAFF
    )
    returns.approve_return(return_id=request.pk, actor=STAFF)
    returns.receive_return(return_id=request.pk, location_id=shop.store.pk, actor=STAFF)
    returns.refund_return(return_id=request.pk, actor=STAFF)
    pending_left = balances(member)[2]

    completion.complete_orders(now=clock.now() + timedelta(days=15))

    order.refresh_from_db()
    assert order.state == domain.COMPLETED
    available, held, pending = balances(member)
    assert (held, pending) == (0, 0)
    assert pending_left > 0
    assert ledger_mismatches() == []
    assert (
        available
        == 5000
        + order_points.split.points_share(
            5000,
            refunded_before=Decimal("0"),
            refunded_after=order.amount_refunded,
            money=Decimal("129.70"),
        )
        + pending_left
    )


# --- attribution -------------------------------------------------------------------------


def test_a_members_order_is_credited_to_their_home_store(shop):
    user, _member = make_member(points=0, home_store_id=shop.store.pk)

    credited = credit_store_for(
        referral_store_code="", pickup_store_id=None, user_id=user.pk, ship_to_city="Lhasa"
    )

    assert credited == (shop.store.pk, CreditReason.HOME_STORE)


# --- what the shopper and the API see ----------------------------------------------------


def test_order_page_points_line_ends_without_a_latin_full_stop_in_chinese(shop, client):
    user, member = make_member()
    order = pay(place_with_points(shop, user, member, 5000).order_id)
    client.force_login(user)

    page = client.get(f"/orders/{order.number}/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()

    line = page[page.index('class="order-points-earned"') :]
    assert line[: line.index("</p>")].endswith("退货期结束后可用")


def test_order_page_and_api_show_points_used_and_earned(shop, client, settings):
    settings.LANGUAGE_CODE = "en"
    user, member = make_member()
    order = pay(place_with_points(shop, user, member, 5000).order_id)
    client.force_login(user)

    page = client.get(f"/orders/{order.number}/").content.decode()
    api = client.get(f"/api/v1/orders/{order.number}?token={order.guest_token}").json()

    assert "Paid with 5000 points" in page
    assert f"You earn {order.points_earned} points with this order" in page
    assert (api["points_used"], api["points_value"], api["points_earned"]) == (
        5000,
        "50.00",
        order.points_earned,
    )


def test_the_paid_email_tells_the_points_used_and_earned(shop, settings):
    from django.core import mail

    from omnimall.core import outbox

    user, member = make_member()
    order = pay(place_with_points(shop, user, member, 5000).order_id)
    outbox.deliver_due()

    (paid,) = [m for m in mail.outbox if "Payment received" in m.subject]
    assert "5000 points paid 50.00 CNY" in paid.body
    assert f"You earn {order.points_earned} points" in paid.body


def test_paying_again_asks_the_gateway_for_the_money_part_only(shop):
    from omnimall.orders.services import payment

    user, member = make_member()
    placed = place_with_points(shop, user, member, 5000)

    payment.restart_payment(order_id=placed.order_id, notify_url="http://x/n", return_url="")

    amounts = list(
        Payment.objects.filter(order_id=placed.order_id).values_list("amount", flat=True)
    )
    assert amounts == [Decimal("129.70"), Decimal("129.70")]


def test_the_back_office_order_page_shows_the_points(shop, admin_client, settings):
    settings.LANGUAGE_CODE = "en"
    user, member = make_member()
    order = pay(place_with_points(shop, user, member, 5000).order_id)

    page = admin_client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()

    assert "Points used" in page
    assert "Paid with points" in page
    assert "Points earned" in page
    assert "5000" in page


def test_a_new_address_with_a_cheaper_fee_is_refused_for_an_order_paid_with_points(shop):
    """A refund gives points back in proportion to the money: the fee's difference would
    not come back exactly, so the address keeps its fee (cancel and order again)."""
    user, member = make_member()
    order = pay(place_with_points(shop, user, member, 1000, shipping="20.00").order_id)

    with pytest.raises(DeliveryFeeDiffersError):
        change_ship_to(order_id=order.pk, address=HANGZHOU, actor=STAFF)

    order.refresh_from_db()
    assert (order.shipping, order.amount_refunded) == (Decimal("20.00"), Decimal("0.00"))
