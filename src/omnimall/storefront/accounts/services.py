"""Writes for shopper accounts: signing up.

A shopper account is Django's own ``User``: ``username`` is the email address in lower
case (so sign-in by email works with Django's authentication backend, and the unique
index on ``username`` refuses a second account for the same address even when two
sign-ups race), ``email`` the same address, ``first_name`` the name. The mobile phone is
not stored on the user: the member record keyed by phone arrives with issue 5 (members);
until then the sign-up keeps it in the session to prefill checkout.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from omnimall.core import audit
from omnimall.core.actors import Actor

from .errors import EmailTakenError


def normalise_email(email: str) -> str:
    return email.strip().lower()


def email_taken(email: str) -> bool:
    address = normalise_email(email)
    users = get_user_model().objects
    return (
        users.filter(username__iexact=address).exists()
        or users.filter(email__iexact=address).exists()
    )


def register_shopper(*, email: str, name: str, password: str) -> User:
    """Create a shopper account; ``EmailTakenError`` (409) if the address is in use."""
    address = normalise_email(email)
    if email_taken(address):
        raise EmailTakenError(email=address)
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                username=address, email=address, password=password, first_name=name.strip()
            )
            audit.record(actor=Actor.from_user(user), action="account.signed_up", subject=user)
    except IntegrityError:  # a concurrent sign-up with the same address won the race
        raise EmailTakenError(email=address) from None
    return user
