"""POS test data: a store with stock, POS keys, members with points, receipt payloads."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from omnimall.catalog.models import Sku
from omnimall.core import api_keys
from omnimall.core.actors import Actor
from omnimall.inventory import services as inventory_services
from omnimall.inventory.models import LocationKind, StockLocation
from omnimall.members.models import Member
from omnimall.members.services import identity
from omnimall.pos import schemas
from tests.inventory.factories import make_location, make_skus
from tests.members.test_points_factories import give_points

ACTOR = Actor.system("pos-tests")
WHEN = datetime(2026, 11, 27, 10, 30, tzinfo=UTC)
_numbers = itertools.count(1)
_phones = itertools.count(13800000001)


@dataclass
class Shop:
    store: StockLocation
    skus: list[Sku]
    token: str


def make_store(code: str | None = None) -> StockLocation:
    return make_location(code or f"store-{next(_numbers)}", kind=LocationKind.STORE)


def pos_token(store: StockLocation | None, *, scopes: tuple[str, ...] = ("pos",)) -> str:
    return api_keys.create_api_key(
        name=f"pos-{uuid.uuid4().hex[:6]}",
        scopes=list(scopes),
        actor=ACTOR,
        bound_to=store.code if store else "",
    ).token


def make_shop(*, units: int = 10, skus: int = 2, code: str | None = None) -> Shop:
    store = make_store(code)
    made = make_skus(skus)
    for sku in made:
        if units:
            inventory_services.receive_stock(
                location_id=store.pk, sku_id=sku.pk, quantity=units, actor=ACTOR
            )
    return Shop(store=store, skus=made, token=pos_token(store))


def new_phone() -> str:
    return f"+86{next(_phones)}"


def make_member(*, points_available: int = 0, phone: str | None = None) -> Member:
    member = identity.enrol_member(phone=phone or new_phone(), actor=ACTOR)
    if points_available:
        give_points(member, points_available, document="gift", actor=ACTOR)
    member.refresh_from_db()
    return member


def receipt_body(
    shop: Shop,
    *,
    number: str | None = None,
    lines: list[tuple[Sku, int, str]] | None = None,
    member: dict[str, str] | None = None,
    payments: list[dict[str, Any]] | None = None,
    store: str | None = None,
    pay_rest: bool = True,
) -> dict[str, Any]:
    """A ``POST /pos/sales`` body; lines = [(sku, quantity, unit price)].

    A receipt is paid exactly: what ``payments`` leave of the total is paid in cash
    (``pay_rest=False``: the payments as given, which may not add up).
    """
    lines = lines if lines is not None else [(shop.skus[0], 1, "100.00")]
    body: dict[str, Any] = {
        "store": store or shop.store.code,
        "receipt_number": number or f"R{next(_numbers):06d}",
        "occurred_at": WHEN.isoformat(),
        "lines": [
            {"sku": sku.code, "quantity": quantity, "unit_price": price}
            for sku, quantity, price in lines
        ],
    }
    if member is not None:
        body["member"] = member
    payments = list(payments or [])
    rest = sum((Decimal(price) * quantity for _, quantity, price in lines), Decimal("0.00"))
    rest -= sum((Decimal(str(p["amount"])) for p in payments), Decimal("0.00"))
    if pay_rest and rest > 0:
        payments.append({"method": "cash", "amount": str(rest)})
    if payments:
        body["payments"] = payments
    return body


def sale_of(body: dict[str, Any]) -> Any:
    """The domain ``Sale`` of a receipt body (as the API parses it)."""
    return schemas.ReceiptIn.model_validate(body).to_domain()


def return_body(
    shop: Shop,
    *,
    number: str | None = None,
    receipt_number: str = "",
    lines: list[dict[str, Any]],
    authorised_by: str = "",
    reason: str = "",
    member: dict[str, str] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "store": shop.store.code,
        "return_number": number or f"T{next(_numbers):06d}",
        "occurred_at": WHEN.isoformat(),
        "receipt_number": receipt_number,
        "authorised_by": authorised_by,
        "lines": lines,
    }
    if reason:
        body["reason"] = reason
    if member is not None:
        body["member"] = member
    return body


def return_of(body: dict[str, Any]) -> Any:
    return schemas.TillReturnIn.model_validate(body).to_domain()


def money(value: str) -> Decimal:
    return Decimal(value)
