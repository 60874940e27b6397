"""A guest finds an order again: its number and the contact given at checkout.

A guest's order opens with its guest token, which the confirmation page, the emails and
the session carry. A shopper who lost them (another device, an email deleted) gives the
order number and the email address *or* mobile number typed at checkout, and gets the
token back. Wrong guesses are braked as sign-in is (``core.throttle``, scope
``order-lookup``: 10 failures for one order number or from one client address in 15
minutes), and a wrong contact is the same 404 as an unknown number, so the lookup tells
nobody which numbers exist.
"""

from __future__ import annotations

from omnimall.core import throttle
from omnimall.core.errors import TooManyRequestsError
from omnimall.members.domain import InvalidPhoneError, normalise_phone
from omnimall.orders.errors import OrderNotFoundError
from omnimall.orders.models import Order
from omnimall.orders.selectors.orders import clean_number

SCOPE = "order-lookup"


class TooManyLookupsError(TooManyRequestsError):
    code = "too_many_attempts"
    message = "Too many tries to find an order. Wait a few minutes and try again."


def _same_contact(given: str, *, email: str, phone: str) -> bool:
    text = given.strip()
    if "@" in text:
        return text.casefold() == email.strip().casefold()
    try:
        return normalise_phone(text) == normalise_phone(phone)
    except InvalidPhoneError:  # not a mobile number, or the order's is not one
        return False


def find_guest_token(*, number: str, contact: str, client: str) -> str:
    """The guest token of order ``number`` when ``contact`` is its email address or mobile
    number; 404 ``order_not_found`` otherwise, 429 ``too_many_attempts`` when braked."""
    cleaned = clean_number(number)
    subject = cleaned or number.strip()[:24]
    if throttle.is_throttled(client, subject, scope=SCOPE):
        raise TooManyLookupsError
    found = (
        Order.objects.filter(number=cleaned).values_list("email", "phone", "guest_token").first()
        if cleaned
        else None
    )
    if found is None or not _same_contact(contact, email=found[0], phone=found[1]):
        throttle.count_failure(client, subject, scope=SCOPE)
        raise OrderNotFoundError(number=subject)
    return found[2]
