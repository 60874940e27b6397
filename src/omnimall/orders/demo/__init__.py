"""The demo's order history: ``omnimall manage load_demo_orders`` (run by ``omnimall demo``).

About 80 online orders over the last 14 days, made through the shop's own services and
then dated back (``run``), following a script (``plan``) of what happens to each: most
paid, shipped and delivered or picked up, a few cancelled before paying or left unpaid
until their hold expired, some returned and refunded, some with invoices; the newest
still open, so the back office has work waiting. Some are the demo shopper's
(``shopper@omnimall.local``), most are guests'; some came through a store's referral code.

Once only: each order of the history carries a staff note by ``load_demo_orders``, and a
database holding any such note is left alone. The same ``seed`` gives the same history
(on the same demo catalog), dated back from the time it runs.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from tqdm import tqdm

from omnimall.checkout import selectors as checkout_selectors
from omnimall.checkout.services.carts import DEFAULT_CHANNEL
from omnimall.core import clock
from omnimall.core.demo import outbox_held
from omnimall.inventory.selectors.allocation import list_locations
from omnimall.orders.models import OrderEvent, OrderEventKind

from . import plan as script
from .run import MARKER, HistoryWriter, Shopper, SkippedError
from .shelf import Shelf

SHOPPER_EMAIL = "shopper@omnimall.local"  # the demo shopper (``omnimall demo``)
SHOPPER_STORE = "sh-nanjing-road"  # the demo shopper's home store (load_demo_members)


class DemoOrdersError(Exception):
    """No products with stock to sell, or no warehouse to ship from."""

    def __init__(self) -> None:
        super().__init__("The demo order history needs the demo catalog and its stock (load_demo).")


@dataclass(frozen=True, slots=True)
class DemoOrdersResult:
    loaded: bool  # False: the history was there already
    orders: int = 0
    skipped: int = 0  # nothing left on the shelf for them
    cut_short: int = 0  # a service refused one of their steps (logged)
    seconds: float = 0.0
    states: dict[str, int] = field(default_factory=dict)


def already_loaded() -> bool:
    return OrderEvent.objects.filter(
        kind=OrderEventKind.NOTE, actor_label=MARKER.label[:150]
    ).exists()


def _shopper() -> Shopper | None:
    """The demo shopper, with the address ``omnimall demo`` saved for them (none: the
    history has only guests)."""
    user = get_user_model().objects.filter(username=SHOPPER_EMAIL).first()
    saved = checkout_selectors.list_addresses(user=user)  # none for no user
    if user is None or not saved:
        return None
    fields = ("name", "phone", "province", "city", "district", "street", "postal_code")
    address = {key: str(getattr(saved[0], key) or "") for key in fields}
    contact = {"name": address["name"], "email": user.email or SHOPPER_EMAIL}
    return Shopper(user=user, contact={**contact, "phone": address["phone"]}, address=address)


def load_demo_orders(
    *, orders: int, seed: int, progress: bool = True, out: Callable[[str], None] = print
) -> DemoOrdersResult:
    """Write the history once (see the module docstring)."""
    if already_loaded():
        return DemoOrdersResult(loaded=False)
    started = time.perf_counter()
    locations = list_locations()
    stores = {loc.code: loc.location_id for loc in locations if loc.offers_pickup}
    warehouses = [loc.location_id for loc in locations if loc.kind == "warehouse" and loc.can_ship]
    shelf = Shelf(channel_code=DEFAULT_CHANNEL, stores=frozenset(stores.values()))
    if not shelf or not warehouses:
        raise DemoOrdersError()
    shopper = _shopper()
    plans = script.plan_history(
        count=orders,
        seed=seed,
        now=clock.now(),
        stores=sorted(stores),
        shopper=shopper is not None,
        shopper_store=SHOPPER_STORE,
        hold=timedelta(minutes=settings.CHECKOUT_HOLD_MINUTES),
    )
    writer = HistoryWriter(shelf=shelf, shopper=shopper, stores=stores, warehouses=warehouses)
    states: Counter[str] = Counter()
    skipped = cut_short = 0
    with (
        outbox_held(),
        tqdm(total=len(plans), unit="order", desc="demo orders", disable=not progress) as bar,
    ):
        for order_plan in plans:
            try:
                state, complete = writer.write(order_plan)
            except SkippedError:
                skipped += 1
            else:
                states[state] += 1
                cut_short += not complete
            bar.update()
    seconds = time.perf_counter() - started
    out(f"demo orders: {sum(states.values())} over the last {script.DAYS} days in {seconds:.1f} s")
    return DemoOrdersResult(
        loaded=True,
        orders=sum(states.values()),
        skipped=skipped,
        cut_short=cut_short,
        seconds=seconds,
        states=dict(states),
    )
