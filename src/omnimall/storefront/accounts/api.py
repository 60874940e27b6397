"""Store API: an app signs a shopper in and out (mounted at ``/api/v1/account``).

A browser signs in with the storefront's form and keeps a session cookie. An app trades
the shopper's email and password for a token (``POST /tokens``) and sends it as
``Authorization: Bearer <token>`` on every Store API call: carts, checkout, orders and
this account (``core.api.auth.signed_in_shopper``). Sign-in shares the storefront's rules:
the same generic refusal whether or not the account exists, and the same brake on
guessing (``accounts.throttle``: 429 after repeated failures). A guest cart the app
built before signing in joins the shopper's cart, as at the web sign-in.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth.models import update_last_login
from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from pydantic import StrictBool

from omnimall.checkout import selectors as checkout_selectors
from omnimall.checkout.schemas import AddressIn
from omnimall.checkout.services import addresses as address_services
from omnimall.checkout.services import carts
from omnimall.core import shopper_tokens
from omnimall.core.actors import Actor
from omnimall.core.api.auth import NotSignedInError, signed_in_shopper
from omnimall.core.api.errors import ERRORS as API_ERRORS
from omnimall.core.api.errors import ErrorOut
from omnimall.core.api.schemas import StrictIn
from omnimall.core.errors import DomainError, NotFoundError, TooManyRequestsError
from omnimall.core.models import ShopperToken
from omnimall.members.selectors import members as member_selectors
from omnimall.orders.services import adoption
from omnimall.storefront.accounts.forms import EmailAuthenticationForm

router = Router(tags=["shopper account"])
ERRORS: dict[int, Any] = {**API_ERRORS, 429: ErrorOut}


class InvalidCredentialsError(DomainError):
    code = "invalid_credentials"
    status = 401
    message = "The email address or password is not right."


class TooManyAttemptsError(TooManyRequestsError):
    code = "too_many_attempts"
    message = "Too many attempts to sign in. Wait a few minutes and try again."


class TokenNotFoundError(NotFoundError):
    code = "token_not_found"
    message = "No such sign-in of this shopper."


class GuestOrderIn(StrictIn):
    number: str = Field(..., min_length=1, max_length=24)
    token: str = Field(..., min_length=1, max_length=64, description="The order's guest token")


class AppSignInIn(StrictIn):
    email: str = Field(..., min_length=1, max_length=254)
    password: str = Field(..., min_length=1, max_length=4096)
    device: str = Field(
        "", max_length=80, description="What the shopper will recognise, e.g. 'iPhone 16'"
    )
    cart: str | None = Field(
        None,
        max_length=64,
        description="A guest cart's id built before signing in: it joins the shopper's cart",
    )
    guest_orders: list[GuestOrderIn] = Field(
        default_factory=list,
        max_length=adoption.MOST,
        description="Orders the app placed as a guest: those placed with this account's "
        "email are kept in the account (``kept_orders``)",
    )


class AccountMemberOut(Schema):
    card_number: str
    tier: str
    points_available: int
    points_value: str


class AccountOut(Schema):
    email: str
    name: str
    member: AccountMemberOut | None


class AppSignInOut(Schema):
    token: str = Field(..., description="Send as 'Authorization: Bearer <token>'; shown once")
    token_type: str = "Bearer"  # noqa: S105 (the scheme's name, not a secret)
    id: int
    device: str
    expires_at: datetime = Field(..., description="Moves on with use; see the API docs")
    cart: str | None = Field(None, description="The shopper's open cart, if any")
    kept_orders: list[str] = Field(
        default_factory=list, description="Numbers of the guest orders now in the account"
    )
    account: AccountOut


class AppSignInListOut(Schema):
    id: int
    device: str
    signed_in_at: datetime
    last_used_at: datetime
    expires_at: datetime
    current: bool


class SavedAddressIn(AddressIn):
    # Strict: 0, 1, "true" or "yes" are not the JSON boolean the schema documents.
    is_default: StrictBool = False


class SavedAddressOut(Schema):
    id: int
    name: str
    phone: str
    province: str
    city: str
    district: str
    street: str
    postal_code: str
    is_default: bool


def _address_out(address: Any) -> SavedAddressOut:
    return SavedAddressOut(
        id=address.pk,
        name=address.name,
        phone=address.phone,
        province=address.province,
        city=address.city,
        district=address.district,
        street=address.street,
        postal_code=address.postal_code,
        is_default=address.is_default,
    )


def _account(user: Any) -> AccountOut:
    member = member_selectors.member_for_user(user.pk)
    summary = member_selectors.member_summary(member.pk) if member else None
    return AccountOut(
        email=user.email,
        name=user.first_name,
        member=AccountMemberOut(
            card_number=summary.card_number,
            tier=summary.progress.current.name,
            points_available=summary.points_available,
            points_value=f"{summary.points_value:.2f}",
        )
        if summary
        else None,
    )


def _shopper(request: HttpRequest) -> Any:
    user = signed_in_shopper(request)
    if user is None:
        raise NotSignedInError
    return user


@router.post("/tokens", response={201: AppSignInOut, **ERRORS}, summary="Sign in an app")
def sign_in(request: HttpRequest, payload: AppSignInIn) -> Status[AppSignInOut]:
    """Email and password → a bearer token (401 ``invalid_credentials``, the same whether
    or not the account exists; 429 ``too_many_attempts`` after repeated failures)."""
    form = EmailAuthenticationForm(
        request, data={"username": payload.email, "password": payload.password}
    )
    if not form.is_valid():
        if form.has_error("__all__", "throttled"):
            raise TooManyAttemptsError
        raise InvalidCredentialsError
    user = form.get_user()
    issued = shopper_tokens.issue(user=user, device=payload.device)
    update_last_login(type(user), user)  # as a web sign-in does
    try:
        cart = carts.merge_carts(user=user, session_cart_token=payload.cart)
    except DomainError:  # the guest cart is not mergeable: the shopper's own stays
        cart = carts.merge_carts(user=user, session_cart_token=None)
    kept = adoption.adopt_guest_orders(
        user=user, tokens={order.number: order.token for order in payload.guest_orders}
    )
    record = issued.record
    return Status(
        201,
        AppSignInOut(
            token=issued.token,
            id=record.pk,
            device=record.device,
            expires_at=record.expires_at,
            cart=cart,
            kept_orders=kept,
            account=_account(user),
        ),
    )


@router.get("", response={200: AccountOut, **ERRORS}, summary="The signed-in shopper")
def get_account(request: HttpRequest) -> AccountOut:
    """Who is signed in, and their membership (card, tier, points) when linked."""
    return _account(_shopper(request))


@router.get(
    "/tokens",
    response={200: list[AppSignInListOut], **ERRORS},
    summary="The shopper's apps signed in",
)
def list_sign_ins(request: HttpRequest) -> list[AppSignInListOut]:
    user = _shopper(request)
    current = getattr(request, "shopper_token", None)
    return [
        AppSignInListOut(
            id=record.pk,
            device=record.device,
            signed_in_at=record.created_at,
            last_used_at=record.last_used_at,
            expires_at=record.expires_at,
            current=current is not None and current.pk == record.pk,
        )
        for record in shopper_tokens.live_for(user)
    ]


@router.delete(
    "/tokens/{token_id}",
    response={204: None, **ERRORS},
    summary="Sign an app out ('current': the one making the call)",
)
def sign_out(request: HttpRequest, token_id: str) -> Status[None]:
    user = _shopper(request)
    record: ShopperToken | None
    if token_id == "current":  # noqa: S105 (a path word, not a secret)
        record = getattr(request, "shopper_token", None)
    elif token_id.isdigit() and len(token_id) <= 18:
        record = shopper_tokens.find_for(user, int(token_id))
    else:
        record = None
    if record is None:
        raise TokenNotFoundError(token_id=token_id[:24])
    shopper_tokens.revoke(record=record, actor=Actor.from_user(user))
    return Status(204, None)


# --- the address book: the same as the account pages' (checkout.services.addresses) ------


@router.get(
    "/addresses",
    response={200: list[SavedAddressOut], **ERRORS},
    summary="The shopper's saved addresses, the default first",
)
def list_addresses(request: HttpRequest) -> list[SavedAddressOut]:
    user = _shopper(request)
    return [_address_out(a) for a in checkout_selectors.list_addresses(user=user)]


@router.post("/addresses", response={201: SavedAddressOut, **ERRORS}, summary="Save a new address")
def add_address(request: HttpRequest, payload: SavedAddressIn) -> Status[SavedAddressOut]:
    """The first address is the default; ``is_default`` makes a later one the default.
    422 ``invalid_address`` (per field in ``details.errors``), ``too_many_addresses``
    (20)."""
    address = address_services.save_address(user=_shopper(request), data=payload.model_dump())
    return Status(201, _address_out(address))


@router.put(
    "/addresses/{address_id}",
    response={200: SavedAddressOut, **ERRORS},
    summary="Replace one of the shopper's addresses",
)
def replace_address(
    request: HttpRequest, address_id: int, payload: SavedAddressIn
) -> SavedAddressOut:
    address = address_services.save_address(
        user=_shopper(request), data=payload.model_dump(), address_id=address_id
    )
    return _address_out(address)


@router.delete(
    "/addresses/{address_id}",
    response={204: None, **ERRORS},
    summary="Delete one of the shopper's addresses (the next becomes the default)",
)
def delete_address(request: HttpRequest, address_id: int) -> Status[None]:
    address_services.delete_address(user=_shopper(request), address_id=address_id)
    return Status(204, None)
