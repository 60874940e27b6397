"""``omnimall manage load_demo_orders``: the demo's order history, made through the shop's
services and dated back over the last 14 days."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db.models import Sum
from django.utils import timezone

from omnimall.cli import DEMO_SHOPPER_EMAIL, _ensure_demo_staff
from omnimall.core import clock
from omnimall.core.demo import TimeMap
from omnimall.core.models import OutboxKind, OutboxMessage, OutboxState
from omnimall.inventory.models import FulfilmentRequest, Shipment
from omnimall.inventory.selectors.stock import list_sku_availability
from omnimall.orders.demo import plan as script
from omnimall.orders.models import (
    InvoiceRequest,
    InvoiceState,
    Order,
    OrderEvent,
    OrderLine,
    ReturnRequest,
)
from omnimall.payments.models import EntryKind, Payment, PaymentEntry, SandboxTrade

ORDERS = 30
PRODUCTS = 60
STORES = ("sh-nanjing-road", "sh-xintiandi", "bj-sanlitun", "gz-tianhe", "hz-hubin")


def _plans(now, seed=7):
    return script.plan_history(
        count=ORDERS, seed=seed, now=now, stores=STORES, shopper=True, shopper_store=STORES[0]
    )


def test_plan_history_is_the_same_for_the_same_seed_and_differs_for_another():
    now = clock.now()

    first, again, other = _plans(now), _plans(now), _plans(now, seed=8)

    assert first == again
    assert first != other


def test_plan_history_keeps_steps_in_the_past_in_order_and_leaves_work_waiting():
    now = clock.now()

    plans = _plans(now)

    # The newest order is at least LATEST old: just after midnight, the last day is yesterday.
    oldest = timezone.localtime(now - script.LATEST).date() - timedelta(days=script.DAYS - 1)
    for plan in plans:
        moments = [step.at for step in plan.steps]
        assert moments == sorted(moments)
        assert len(set(moments)) == len(moments)
        assert timezone.localtime(moments[0]).date() >= oldest
        assert moments[-1] < now
        assert plan.steps[0].action == script.PLACE
    lasts = {(plan.method, plan.last) for plan in plans}
    assert ("ship", script.PAY) in lasts or ("ship", script.ACCEPT) in lasts  # to ship
    assert ("pickup", script.PUT_ASIDE) in lasts  # waiting for pick-up
    assert ("ship", script.DELIVER) in lasts
    assert ("pickup", script.HAND_OVER) in lasts
    assert any(plan.last in (script.CANCEL, script.EXPIRE) for plan in plans)
    assert any(plan.by_shopper for plan in plans)
    assert len({timezone.localtime(plan.placed_at).date() for plan in plans}) >= 5


@pytest.mark.parametrize(
    ("step", "after", "before"),
    [
        # Some paid pick-ups move to another store before they are put aside.
        (script.MOVE_STORE, script.PAY, script.PUT_ASIDE),
        # Some shoppers keep their pick-up longer before collecting it.
        (script.KEEP_LONGER, script.PUT_ASIDE, script.HAND_OVER),
    ],
)
def test_some_pick_ups_take_a_step_between_two_others(step, after, before):
    plans = script.plan_history(count=240, seed=7, now=clock.now(), stores=STORES, shopper=False)

    taking = [plan for plan in plans if plan.has(step)]

    assert taking
    for plan in taking:
        assert plan.method == "pickup"
        earlier, at, later = plan.at(after), plan.at(step), plan.at(before)
        assert earlier is not None
        assert at is not None
        assert earlier < at
        assert later is None or at < later


@pytest.mark.django_db
def test_time_map_moves_each_step_to_its_moment_and_leaves_other_times_alone():
    timeline = TimeMap()
    before = clock.now()
    first, second = before - timedelta(days=3), before - timedelta(days=2)

    timeline.mark(first)
    during_first = clock.now()
    timeline.mark(second)
    during_second = clock.now()
    timeline.close()

    assert timeline.moment(during_first) - first < timedelta(seconds=1)
    assert timeline.moment(during_second) - second < timedelta(seconds=1)
    assert timeline.moment(during_first) < timeline.moment(during_second)
    assert timeline.moment(before - timedelta(hours=1)) == before - timedelta(hours=1)
    later = clock.now() + timedelta(minutes=15)
    assert timeline.moment(later) == later
    with pytest.raises(ValueError, match="forward"):
        TimeMap(marks=[(before, second)]).mark(first)


@pytest.mark.django_db
def test_load_demo_orders_refuses_without_the_demo_catalog():
    with pytest.raises(CommandError, match="load_demo"):
        call_command("load_demo_orders", "--no-progress", stdout=StringIO())

    assert not Order.objects.exists()


def _load_orders(*args: str) -> str:
    out = StringIO()
    call_command("load_demo_orders", "--orders", str(ORDERS), "--no-progress", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def demo_shop(settings):
    # As `omnimall demo` runs it: messages go out on commit, with no broker.
    settings.OUTBOX_DELIVER_ON_COMMIT = True
    call_command("load_demo", "--products", str(PRODUCTS), "--no-progress", stdout=StringIO())
    _ensure_demo_staff()
    call_command("load_demo_members", verbosity=0)


# Transactional: each service commits and its after-commit work (allocation, the
# fulfilment events' handlers) runs as it does in the demo.
@pytest.mark.django_db(transaction=True)
def test_load_demo_orders_writes_a_consistent_history_of_the_last_14_days_once(demo_shop):
    started = clock.now()

    output = _load_orders()

    orders = list(Order.objects.all())
    assert len(orders) == ORDERS, output
    assert "Demo orders loaded: 30:" in output  # none skipped, none cut short

    # Spread over the last 14 days, on several of them, none in the future.
    today = timezone.localtime(started - script.LATEST).date()  # yesterday just after midnight
    days = {timezone.localtime(o.placed_at).date() for o in orders}
    assert len(days) >= 5
    assert min(days) >= today - timedelta(days=13)
    assert max(o.placed_at for o in orders) < started

    # In every state the back office has work for, and the finished ones.
    states = Counter(o.state for o in orders)
    assert states["allocated"] + states["paid"] >= 1, states
    assert states["ready_for_pickup"] >= 1, states
    assert states["delivered"] + states["picked_up"] + states["completed"] >= 5, states
    assert states["cancelled"] >= 1, states
    assert {o.delivery_method for o in orders} == {"ship", "pickup"}
    assert Order.objects.filter(user__username=DEMO_SHOPPER_EMAIL).exists()
    assert Order.objects.filter(email__endswith="@example.com").count() > ORDERS // 2
    assert len({o.ship_to.get("city") for o in orders if o.ship_to}) >= 3
    # Some shoppers wrote a note, which their orders' requests carry to the warehouse.
    noted = {o.number: o.shopper_note for o in orders if o.shopper_note}
    assert noted, "no demo order has a note from the shopper"
    for request in FulfilmentRequest.objects.filter(owner_id__in=noted):
        assert request.note == noted[request.owner_id]

    # A pick-up moved to another store is prepared there.
    for event in OrderEvent.objects.filter(
        data__after__isnull=False, order__delivery_method="pickup"
    ):
        order = event.order
        assert order.pickup_store.code == event.data["after"] or order.state == "cancelled"
        for request in FulfilmentRequest.objects.filter(owner_id=order.number, state="open"):
            assert request.location_id == order.pickup_store_id

    # Each order's times run forward, from placement on.
    for order in orders:
        events = list(order.events.order_by("created_at", "id").values_list("created_at", "kind"))
        assert events[0][0] >= order.placed_at
        assert events[-1][0] < started
        if order.paid_at is not None:
            assert order.placed_at < order.paid_at < order.placed_at + timedelta(minutes=10)
        if order.ready_at is not None:
            assert order.paid_at is not None
            assert order.ready_at > order.paid_at
        if order.state == "ready_for_pickup":  # put aside lately: not yet "uncollected"
            assert order.ready_at is not None
            assert order.ready_at > started - timedelta(days=6)
            kept = timedelta(days=3) if order.pickup_extended_at else timedelta(0)
            assert order.collect_by == order.ready_at + timedelta(days=7) + kept
            assert order.collect_by > started
        if order.closed_at is not None:
            assert order.placed_at < order.closed_at < started
    for request in FulfilmentRequest.objects.filter(owner_type="order"):
        assert request.created_at < started
    assert not Shipment.objects.filter(shipped_at__gte=started).exists()
    assert not ReturnRequest.objects.filter(created_at__gte=started).exists()
    assert not InvoiceRequest.objects.filter(requested_at__gte=started).exists()

    # Money: each order's paid and refunded amounts are its payments ledger's.
    for order in orders:
        entries = PaymentEntry.objects.filter(payment__order=order)
        captured = entries.filter(kind=EntryKind.CAPTURE).aggregate(s=Sum("amount"))["s"]
        refunded = entries.filter(kind=EntryKind.REFUND).aggregate(s=Sum("amount"))["s"]
        assert order.amount_paid == (captured or Decimal("0.00")), order.number
        assert order.amount_refunded == -(refunded or Decimal("0.00")), order.number
    # The order page shows both: the payment was made when the order was paid.
    for payment in Payment.objects.filter(order__in=orders, paid_at__isnull=False):
        order = next(o for o in orders if o.pk == payment.order_id)
        assert order.paid_at is not None
        assert abs(payment.paid_at - order.paid_at) < timedelta(seconds=2), order.number
    paid_trades = SandboxTrade.objects.filter(status="TRADE_SUCCESS")
    assert paid_trades.count() == sum(1 for o in orders if o.amount_paid > 0)
    assert not paid_trades.filter(paid_at__gte=started).exists()
    assert InvoiceRequest.objects.filter(state=InvoiceState.ISSUED).exists()
    assert InvoiceRequest.objects.filter(state=InvoiceState.REQUESTED).exists()

    # Stock and points moved only through their ledgers; nothing was sold out.
    call_command("check_stock_ledger", stdout=StringIO())
    call_command("check_points_ledger", stdout=StringIO())
    sold = set(OrderLine.objects.values_list("sku_id", flat=True))
    assert all(s.available > 0 for s in list_sku_availability(sku_ids=sold).values())

    # The emails went out (in one run); the bank's notifications were settled in-process,
    # each recorded delivered when its payment was accepted: nothing is left to send.
    assert not OutboxMessage.objects.filter(state=OutboxState.DEAD).exists()
    assert not OutboxMessage.objects.exclude(last_error="").exists()
    assert not OutboxMessage.objects.filter(state=OutboxState.PENDING).exists()
    assert len(mail.outbox) >= ORDERS
    notifications = OutboxMessage.objects.filter(kind=OutboxKind.GATEWAY_NOTIFICATION)
    assert notifications.count() == Payment.objects.filter(paid_at__isnull=False).count()
    for message in notifications:
        paid = Payment.objects.get(out_trade_no=message.payload["params"]["out_trade_no"])
        assert message.delivered_at is not None
        assert paid.paid_at is not None
        assert abs(message.delivered_at - paid.paid_at) < timedelta(seconds=2)

    # Once: a second run finds the history and adds nothing.
    events = OrderEvent.objects.count()

    again = _load_orders("--seed", "99")

    assert "already loaded" in again
    assert Order.objects.count() == ORDERS
    assert OrderEvent.objects.count() == events
