"""The shopper's address book: save (create or edit) and delete, one default at a time."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction

from omnimall.checkout import pricing
from omnimall.checkout.domain import address_errors, clean_address
from omnimall.checkout.errors import AddressNotFoundError, InvalidCheckoutError
from omnimall.checkout.models import Address
from omnimall.core import audit
from omnimall.core.actors import Actor

MAX_ADDRESSES = 20


class InvalidAddressError(InvalidCheckoutError):
    code = "invalid_address"
    message = "The address is not valid."


class TooManyAddressesError(InvalidCheckoutError):
    code = "too_many_addresses"
    message = "The address book is full; delete an address first."


def _owner_id(user: Any) -> int:
    user_id = pricing.user_id_of(user)
    if user_id is None:
        raise AddressNotFoundError()
    return user_id


@transaction.atomic
def save_address(
    *, user: Any, data: Mapping[str, object], address_id: int | None = None
) -> Address:
    """Create (``address_id`` None) or edit one of the user's addresses.

    ``data``: name, phone, province, city, district, street, postal_code (optional),
    is_default (optional). Invalid fields → 422 ``invalid_address`` with
    ``details.errors = {field: problem}``. The first address is the default.
    """
    user_id = _owner_id(user)
    errors = address_errors(data)
    if errors:
        raise InvalidAddressError(errors=errors)
    fields = clean_address(data)
    if address_id is None:
        count = Address.objects.filter(user_id=user_id).count()
        if count >= MAX_ADDRESSES:
            raise TooManyAddressesError(maximum=MAX_ADDRESSES)
        address = Address(user_id=user_id, is_default=count == 0)
    else:
        found = Address.objects.select_for_update().filter(user_id=user_id, pk=address_id).first()
        if found is None:
            raise AddressNotFoundError(address_id=address_id)
        address = found
    for name, value in fields.items():
        setattr(address, name, value)
    if data.get("is_default") is True:
        address.is_default = True
    if address.is_default:
        Address.objects.filter(user_id=user_id, is_default=True).exclude(pk=address.pk).update(
            is_default=False
        )
    audit.save_with_audit(instance=address, actor=Actor.from_user(user), action=None)
    return address


def keep_address(*, user: Any, ship_to: Mapping[str, object]) -> Address | None:
    """A new address typed at checkout, kept in the signed-in shopper's address book as
    shopping apps do: not when the book holds it already or is full (the order goes ahead
    either way, so this never refuses). The address, or None when it was not kept."""
    user_id = pricing.user_id_of(user)
    if user_id is None or address_errors(ship_to):
        return None
    fields = clean_address(ship_to)
    if Address.objects.filter(user_id=user_id, **fields).exists():
        return None
    try:
        return save_address(user=user, data=fields)
    except TooManyAddressesError:
        return None


@transaction.atomic
def delete_address(*, user: Any, address_id: int) -> None:
    """Delete one of the user's addresses (404 for anyone else's); the next one becomes
    the default when the default goes."""
    user_id = _owner_id(user)
    address = Address.objects.select_for_update().filter(user_id=user_id, pk=address_id).first()
    if address is None:
        raise AddressNotFoundError(address_id=address_id)
    was_default = address.is_default
    audit.delete_with_audit(instance=address, actor=Actor.from_user(user))
    if was_default:
        following = Address.objects.filter(user_id=user_id).order_by("-created_at").first()
        if following is not None:
            Address.objects.filter(pk=following.pk).update(is_default=True)
