"""The demo history's script: when each order is placed and what happens to it after.

Pure Python over a ``random.Random`` (the same seed and the same ``now`` give the same
script). Orders are spread over the last ``DAYS`` days, more on recent days and at
weekends, at the hours people shop. Each order gets a chain of steps at moments in the
past (paid minutes after it was placed, shipped within a day, delivered a day or two
later, …), in working hours where people do the work. A step that would fall after
``now`` does not happen yet, so the most recent orders are still open: paid and waiting
to ship, put aside and waiting to be picked up, a return waiting for approval, an
invoice to issue. ``_keep_work_waiting`` makes sure each of those is there at least once.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

from django.utils import timezone

DAYS = 14
LATEST = timedelta(minutes=45)  # the newest order is placed at least this long ago
SHOP_HOURS = (  # how many orders are placed in each hour of the day, relatively
    2, 1, 0.5, 0.3, 0.2, 0.3, 0.6, 1.2, 2, 3, 3.5, 4,
    5, 4.5, 3.5, 3.5, 3.8, 4, 4.5, 5.5, 7, 7.5, 6, 4,
)  # fmt: skip

# What the script can do to an order (``run`` performs each through the services).
PLACE = "place"
CANCEL = "cancel"  # the shopper cancels before paying
EXPIRE = "expire"  # never paid: the hold expires and the order is cancelled
PAY = "pay"
ACCEPT = "accept"  # the warehouse takes the fulfilment request on
SHIP = "ship"  # the first parcel leaves
SHIP_REST = "ship_rest"  # any other location's parcel leaves
DELIVER = "deliver"
MOVE_STORE = "move_store"  # the shopper picks another pick-up store before it is put aside
PUT_ASIDE = "put_aside"  # the store puts a pick-up order aside: ready for pick-up
KEEP_LONGER = "keep_longer"  # the shopper cannot come in time: the store keeps it longer
HAND_OVER = "hand_over"
RETURN_REQUEST = "return_request"
RETURN_APPROVE = "return_approve"
RETURN_REJECT = "return_reject"
RETURN_RECEIVE = "return_receive"
RETURN_REFUND = "return_refund"
INVOICE_REQUEST = "invoice_request"  # asked for after checkout
INVOICE_ISSUE = "invoice_issue"


@dataclass(frozen=True, slots=True)
class Step:
    action: str
    at: datetime


@dataclass(frozen=True, slots=True)
class OrderPlan:
    index: int
    seed: int  # for what the runner chooses (products, people, tracking numbers)
    by_shopper: bool  # the demo shopper's order; else a guest's
    method: str  # "ship" or "pickup"
    store: str  # pick-up store code ("" for delivery)
    referral: str  # a store's referral code the shopper came with ("" for none)
    invoice: str  # "" none, "personal" / "company" asked at checkout
    lines: tuple[int, ...]  # quantity of each line
    steps: tuple[Step, ...] = field(default=())

    @property
    def placed_at(self) -> datetime:
        return self.steps[0].at

    def has(self, action: str) -> bool:
        return any(step.action == action for step in self.steps)

    def at(self, action: str) -> datetime | None:
        return next((step.at for step in self.steps if step.action == action), None)

    @property
    def last(self) -> str:
        """The last step of the order's own lifecycle (invoices aside)."""
        return [s.action for s in self.steps if not s.action.startswith("invoice")][-1]


def _aware(day: date, hour: int, minute: int, second: int) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute, second)))


def _placements(rng: random.Random, count: int, now: datetime) -> list[datetime]:
    """``count`` moments over the last ``DAYS`` days, oldest first."""
    latest = now - LATEST
    today = timezone.localtime(latest).date()
    days = [today - timedelta(days=ago) for ago in range(DAYS)]
    weights = []
    for ago, day in enumerate(days):
        weight = 1 + 0.6 * (DAYS - 1 - ago) / (DAYS - 1)  # busier lately
        if day.weekday() >= 5:
            weight *= 1.4
        if ago == 0:  # today: only the part of the day that has passed
            weight *= timezone.localtime(latest).hour / 24
        weights.append(weight)
    moments = []
    for _ in range(count):
        day = rng.choices(days, weights=weights)[0]
        hours = range(24) if day != today else range(timezone.localtime(latest).hour + 1)
        hour = rng.choices(hours, weights=SHOP_HOURS[: len(hours)])[0]
        moment = _aware(day, hour, rng.randrange(60), rng.randrange(60))
        moments.append(min(moment, latest - timedelta(seconds=rng.randrange(1800))))
    return sorted(moments)


def _after(rng: random.Random, moment: datetime, low: timedelta, high: timedelta) -> datetime:
    seconds = rng.uniform(low.total_seconds(), high.total_seconds())
    return moment + timedelta(seconds=round(seconds))


def _in_hours(rng: random.Random, moment: datetime, opens: int, closes: int) -> datetime:
    """``moment``, or the next opening (plus a little) when it falls outside the hours."""
    local = timezone.localtime(moment)
    if opens <= local.hour < closes:
        return moment
    day = local.date() if local.hour < opens else local.date() + timedelta(days=1)
    return _aware(day, opens, rng.randrange(50), rng.randrange(60))


S = timedelta(seconds=1)
M = timedelta(minutes=1)
H = timedelta(hours=1)
D = timedelta(days=1)


def _shipping(rng: random.Random, paid: datetime) -> list[Step]:
    accept = _in_hours(rng, _after(rng, paid, 20 * M, 3 * H), 8, 21)
    ship = _in_hours(rng, _after(rng, accept, 40 * M, 6 * H), 8, 21)
    rest = _in_hours(rng, _after(rng, ship, 2 * H, 20 * H), 8, 21)
    deliver = _in_hours(rng, _after(rng, rest, 16 * H, 54 * H), 8, 21)
    return [Step(ACCEPT, accept), Step(SHIP, ship), Step(SHIP_REST, rest), Step(DELIVER, deliver)]


def _pickup(rng: random.Random, paid: datetime) -> list[Step]:
    aside = _in_hours(rng, _after(rng, paid, 20 * M, 3 * H), 10, 21)
    handed = _in_hours(rng, _after(rng, aside, 2 * H, 3 * D), 10, 22)
    return [Step(PUT_ASIDE, aside), Step(HAND_OVER, handed)]


def _return(rng: random.Random, delivered: datetime, *, rejected: bool) -> list[Step]:
    asked = _in_hours(rng, _after(rng, delivered, 4 * H, 3 * D), 8, 23)
    decided = _in_hours(rng, _after(rng, asked, 1 * H, 20 * H), 9, 18)
    if rejected:
        return [Step(RETURN_REQUEST, asked), Step(RETURN_REJECT, decided)]
    received = _in_hours(rng, _after(rng, decided, 1 * D, 3 * D), 9, 18)
    refunded = _in_hours(rng, _after(rng, received, 30 * M, 5 * H), 9, 18)
    return [
        Step(RETURN_REQUEST, asked),
        Step(RETURN_APPROVE, decided),
        Step(RETURN_RECEIVE, received),
        Step(RETURN_REFUND, refunded),
    ]


def _invoice(rng: random.Random, paid: datetime, *, at_checkout: bool) -> list[Step]:
    steps = []
    asked = paid
    if not at_checkout:
        asked = _after(rng, paid, 6 * H, 3 * D)
        steps.append(Step(INVOICE_REQUEST, asked))
    issued = _in_hours(rng, _after(rng, asked, 3 * H, 2 * D), 9, 18)
    return [*steps, Step(INVOICE_ISSUE, issued)]


def _quota(rng: random.Random, count: int, share: float, *, least: int = 0) -> set[int]:
    """``share`` of ``range(count)`` (at least ``least``), chosen at random."""
    wanted = min(count, max(least, round(count * share)))
    return set(rng.sample(range(count), wanted))


def _pending_steps(
    rng: random.Random, placed: datetime, *, fate: str, hold: timedelta, latest: datetime
) -> list[Step]:
    if fate == EXPIRE and placed + hold + 2 * M <= latest:
        return [Step(EXPIRE, _after(rng, placed, hold + 30 * S, hold + 2 * M))]
    return [Step(CANCEL, _after(rng, placed, 2 * M, 14 * M))]


def plan_history(
    *,
    count: int,
    seed: int,
    now: datetime,
    stores: Sequence[str],
    shopper: bool,
    shopper_store: str = "",
    hold: timedelta = timedelta(minutes=15),
) -> list[OrderPlan]:
    """The script of ``count`` orders (oldest first), for pick-up ``stores`` (codes; none:
    delivery only) and, when ``shopper``, some orders by the demo shopper (picking up at
    ``shopper_store`` when it is one of ``stores``)."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    placed = _placements(rng, count, now)
    latest = now - timedelta(minutes=2)
    # The newest orders are paid, and two of them pick-ups: the back office then has
    # pick-ups to put aside and to hand over whatever the hour (``_keep_work_waiting``).
    older = max(count - 3, 0)
    unpaid = _quota(rng, older, 0.09, least=2 if count >= 12 else 0)
    expired = set(rng.sample(sorted(unpaid), len(unpaid) // 2))
    pickups = _quota(rng, count, 0.28 if stores else 0, least=3 if stores and count >= 12 else 0)
    if stores and count >= 12:
        pickups |= {count - 1, count - 3}
    shoppers = _quota(rng, count, 0.1 if shopper else 0, least=3 if shopper and count >= 12 else 0)
    referrals = _quota(rng, count, 0.15)
    paid = [i for i in range(count) if i not in unpaid]
    invoices = {paid[i] for i in _quota(rng, len(paid), 0.14, least=3 if count >= 12 else 0)}
    plans = []
    for index, moment in enumerate(placed):
        by_shopper = index in shoppers
        method = "pickup" if index in pickups else "ship"
        store = ""
        if method == "pickup":
            store = shopper_store if by_shopper and shopper_store in stores else rng.choice(stores)
        steps = [Step(PLACE, moment)]
        invoice = ""
        if index in unpaid:
            fate = EXPIRE if index in expired else CANCEL
            steps += _pending_steps(rng, moment, fate=fate, hold=hold, latest=latest)
        else:
            paid_at = _after(rng, moment, 40 * S, 9 * M)
            steps.append(Step(PAY, paid_at))
            steps += _shipping(rng, paid_at) if method == "ship" else _pickup(rng, paid_at)
            if index in invoices:
                at_checkout = rng.random() < 0.7
                if at_checkout:
                    invoice = "company" if rng.random() < 0.4 else "personal"
                steps += _invoice(rng, paid_at, at_checkout=at_checkout)
        plans.append(
            OrderPlan(
                index=index,
                seed=rng.randrange(2**32),
                by_shopper=by_shopper,
                method=method,
                store=store,
                referral=rng.choice(stores) if index in referrals and stores else "",
                invoice=invoice,
                lines=tuple(
                    2 if rng.random() < 0.12 else 1
                    for _ in range(rng.choices((1, 2, 3), weights=(60, 30, 10))[0])
                ),
                steps=tuple(steps),
            )
        )
    plans = _add_returns(rng, plans, latest=latest)
    plans = [_with_pickup_kept(_with_store_moved(plan)) for plan in plans]
    plans = [_until(plan, latest) for plan in plans]
    return _keep_work_waiting(plans, latest=latest)


def _add_returns(
    rng: random.Random, plans: list[OrderPlan], *, latest: datetime
) -> list[OrderPlan]:
    """About one delivered order in five is sent back (at least one when any could be);
    one return in five is refused."""
    delivered = [p.index for p in plans if (p.at(DELIVER) or latest) < latest - 6 * H]
    chosen = _quota(rng, len(delivered), 0.2, least=1 if len(delivered) >= 4 else 0)
    returning = {delivered[i] for i in chosen}
    refused = {i for i in sorted(returning) if rng.random() < 0.2}
    result = []
    for plan in plans:
        delivered_at = plan.at(DELIVER)
        if plan.index in returning and delivered_at is not None:
            added = _return(rng, delivered_at, rejected=plan.index in refused)
            plan = replace(plan, steps=tuple(sorted((*plan.steps, *added), key=_when)))
        result.append(plan)
    return result


# About one paid pick-up in eight moves to another store ten minutes after payment, before
# its store puts it aside (decided by the plan's seed: the other random draws stay as they
# were).
MOVES_ONE_IN = 8


def _with_store_moved(plan: OrderPlan) -> OrderPlan:
    paid, aside = plan.at(PAY), plan.at(PUT_ASIDE)
    if plan.method != "pickup" or paid is None or plan.seed % MOVES_ONE_IN:
        return plan
    moved = paid + 10 * M
    if aside is not None and aside <= moved:
        return plan
    return replace(plan, steps=tuple(sorted((*plan.steps, Step(MOVE_STORE, moved)), key=_when)))


# About one pick-up put aside in four is kept three days longer by its shopper two days
# after it was ready, unless collected by then (again by the seed, independently of moves).
KEPT_ONE_IN = 4


def _with_pickup_kept(plan: OrderPlan) -> OrderPlan:
    aside, collected = plan.at(PUT_ASIDE), plan.at(HAND_OVER)
    if aside is None or (plan.seed // MOVES_ONE_IN) % KEPT_ONE_IN:
        return plan
    kept = aside + 2 * D
    if collected is not None and collected <= kept:
        return plan
    return replace(plan, steps=tuple(sorted((*plan.steps, Step(KEEP_LONGER, kept)), key=_when)))


def _when(step: Step) -> datetime:
    return step.at


def _until(plan: OrderPlan, latest: datetime) -> OrderPlan:
    """Only the steps that have happened by ``latest``; in order, each a second apart at
    least (the time map needs them to go forward)."""
    steps: list[Step] = []
    for step in sorted(plan.steps, key=_when):
        if step.at > latest:
            continue
        if steps and step.at <= steps[-1].at:
            step = Step(step.action, steps[-1].at + timedelta(seconds=1))
        steps.append(step)
    return replace(plan, steps=tuple(steps))


def _without(plan: OrderPlan, actions: Sequence[str]) -> OrderPlan:
    return replace(plan, steps=tuple(s for s in plan.steps if s.action not in actions))


def _keep_work_waiting(plans: list[OrderPlan], *, latest: datetime) -> list[OrderPlan]:
    """At least one of each kind of open work the back office shows, taken from the most
    recent orders that have got past it: a paid delivery not yet shipped, a pick-up put
    aside and one still to put aside, a return to approve (and, when there are returns to
    spare, one approved and one received), an invoice to issue."""
    by_index = {plan.index: plan for plan in plans}

    def ensure(
        done: Callable[[OrderPlan], bool],
        fits: Callable[[OrderPlan], bool],
        cut: Sequence[str],
        *,
        spare: int = 0,
    ) -> None:
        """Unless an order is ``done``, the latest that ``fits`` loses the ``cut`` steps
        (when more than ``spare`` fit: those keep their whole story)."""
        if any(done(p) for p in by_index.values()):
            return
        candidates = [p for p in by_index.values() if fits(p)]
        if len(candidates) > spare:
            chosen = max(candidates, key=lambda p: p.placed_at)
            by_index[chosen.index] = _without(chosen, cut)

    ensure(
        lambda p: p.method == "ship" and p.last in (PAY, ACCEPT),
        lambda p: p.method == "ship" and p.has(SHIP) and not p.has(RETURN_REQUEST),
        (SHIP, SHIP_REST, DELIVER),
    )

    # Put aside within the last days: an older one would be cancelled as uncollected.
    def may_wait(p: OrderPlan) -> bool:
        return p.has(HAND_OVER) and (p.at(PUT_ASIDE) or latest) >= latest - 5 * D

    def ready(p: OrderPlan) -> bool:
        return p.method == "pickup" and p.last == PUT_ASIDE

    ensure(ready, may_wait, (HAND_OVER,))
    # One still to put aside: paid lately. It may be the one waiting, when another can.
    ensure(
        lambda p: p.method == "pickup" and p.last == PAY,
        lambda p: (
            p.has(PUT_ASIDE)
            and p.placed_at >= latest - 2 * D
            and (
                not ready(p)
                or any(ready(q) or may_wait(q) for q in by_index.values() if q is not p)
            )
        ),
        (PUT_ASIDE, HAND_OVER),
    )
    ensure(ready, may_wait, (HAND_OVER,))
    ensure(
        lambda p: p.last == RETURN_REQUEST,
        lambda p: p.has(RETURN_APPROVE),
        (RETURN_APPROVE, RETURN_RECEIVE, RETURN_REFUND),
    )
    ensure(
        lambda p: p.last == RETURN_APPROVE,
        lambda p: p.has(RETURN_RECEIVE),
        (RETURN_RECEIVE, RETURN_REFUND),
        spare=1,
    )
    ensure(
        lambda p: p.last == RETURN_RECEIVE,
        lambda p: p.has(RETURN_REFUND),
        (RETURN_REFUND,),
        spare=1,
    )
    ensure(
        lambda p: (p.invoice != "" or p.has(INVOICE_REQUEST)) and not p.has(INVOICE_ISSUE),
        lambda p: p.has(INVOICE_ISSUE),
        (INVOICE_ISSUE,),
    )
    return [by_index[plan.index] for plan in plans]
