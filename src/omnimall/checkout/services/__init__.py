"""Checkout writes: carts (``carts``), the checkout itself (``checkout``), the address book
(``addresses``)."""
