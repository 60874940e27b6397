"""``omnimall manage load_demo_members``: demo members with purchases and points, once.

The demo shopper (``shopper@omnimall.local``) is member +86 138 0013 8000, linked to that
account, with a home store, purchases online and in store, and points (available and
pending); four more members sit in other tiers and stores. Idempotent: members are
keyed by phone, purchases and points by their source keys, so running it again changes
nothing. ``omnimall demo`` runs it after creating the demo accounts.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from omnimall.core import clock
from omnimall.core.actors import Actor
from omnimall.core.errors import DomainError
from omnimall.inventory.selectors.allocation import list_locations
from omnimall.members.services import identity, points, purchases
from omnimall.members.services.tiers import recalculate_tier

DEMO_ACTOR = Actor.system("demo")
SHOPPER_EMAIL = "shopper@omnimall.local"


@dataclass(frozen=True)
class DemoPurchase:
    key: str
    channel: str  # "store" or "online"
    days_ago: int
    amount: str
    points: int
    pending: bool = False


@dataclass(frozen=True)
class DemoMember:
    phone: str
    name: str
    email: str
    store: str  # home store code
    consent: dict[str, bool]
    purchases: tuple[DemoPurchase, ...]
    account: str = ""


MEMBERS = (
    DemoMember(
        "+8613800138000", "Li Lei", SHOPPER_EMAIL, "sh-nanjing-road",
        {"sms": True, "email": True, "wechat": False},
        (
            DemoPurchase("R-20260614-0031", "store", 160, "1280.00", 1280),
            DemoPurchase("R-20260903-0107", "store", 85, "1899.00", 2373),
            DemoPurchase("ONLINE-DEMO-0001", "online", 40, "459.00", 573),
            DemoPurchase("ONLINE-DEMO-0002", "online", 3, "329.00", 411, pending=True),
        ),
        account=SHOPPER_EMAIL,
    ),
    DemoMember(
        "+8613900139001", "Han Meimei", "meimei@example.com", "sh-xintiandi",
        {"sms": False, "email": True, "wechat": True},
        (
            DemoPurchase("R-20260301-0012", "store", 260, "6200.00", 7750),
            DemoPurchase("R-20261020-0440", "store", 38, "4680.00", 7020),
        ),
    ),
    DemoMember(
        "+8613700137002", "Wang Fang", "", "sh-nanjing-road",
        {"sms": True, "email": False, "wechat": False},
        (DemoPurchase("R-20261101-0009", "store", 26, "599.00", 599),),
    ),
    DemoMember(
        "+8613600136003", "Zhang Wei", "zhangwei@example.com", "",
        {"sms": False, "email": False, "wechat": False},
        (DemoPurchase("ONLINE-DEMO-0003", "online", 12, "239.00", 239),),
    ),
    DemoMember(
        "+8618600186004", "Chen Jing", "chen.jing@example.com", "sh-xintiandi",
        {"sms": True, "email": True, "wechat": True},
        (),
    ),
)  # fmt: skip


def load_demo_members() -> int:
    """Create the demo members (idempotent); returns how many members are there now."""
    stores = {loc.code: loc.location_id for loc in list_locations() if loc.kind == "store"}
    now = clock.now()
    for row in MEMBERS:
        store_id = stores.get(row.store)
        member = identity.enrol_member(
            phone=row.phone,
            actor=DEMO_ACTOR,
            name=row.name,
            email=row.email,
            home_store_id=store_id,
            joined_store_id=store_id,
            consent=row.consent,
        )
        if row.account:
            user = get_user_model().objects.filter(username=row.account).first()
            # An account linked to another member by hand stays as it is.
            if user is not None:
                with contextlib.suppress(DomainError):
                    identity.link_account(member_id=member.pk, user=user, actor=DEMO_ACTOR)
        for buy in row.purchases:
            when = now - timedelta(days=buy.days_ago)
            purchases.record_purchase(
                member_id=member.pk,
                channel=buy.channel,
                store_id=store_id if buy.channel == "store" else None,
                document=buy.key,
                source_key=f"demo:{buy.key}:purchase",
                amount=Decimal(buy.amount),
                occurred_at=when,
                actor=DEMO_ACTOR,
            )
            points.earn_points(
                member_id=member.pk,
                points=buy.points,
                source_key=f"demo:{buy.key}:earn",
                document=buy.key,
                actor=DEMO_ACTOR,
                pending=buy.pending,
                now=now,
            )
        recalculate_tier(member_id=member.pk, now=now)
    return len(MEMBERS)


class Command(BaseCommand):
    help = (
        "Load the demo members: the demo shopper (+86 138 0013 8000, linked to "
        "shopper@omnimall.local) and four more, with purchases and points. Idempotent."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        count = load_demo_members()
        if options["verbosity"] > 0:
            self.stdout.write(
                self.style.SUCCESS(f"Demo members ready ({count}); SMS codes go to var/sms/.")
            )
