"""Which stores' till receipts and returns a staff member sees.

Store staff see the stores whose ``StockLocation.staff`` lists them; every other role with
the view permission (customer service, the head of e-commerce, logistics) every store's,
also when they are store staff as well.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from omnimall.core import roles
from omnimall.inventory.admin.scope import LocationScope, scope_of

if TYPE_CHECKING:
    from django.db.models import QuerySet
    from django.http import HttpRequest

# Roles that look after every store's receipts (member questions, reports).
NETWORK_WIDE_ROLES = frozenset({roles.CUSTOMER_SERVICE, roles.HEAD_OF_ECOMMERCE, roles.LOGISTICS})
EVERY_STORE = LocationScope(location_ids=None)


def receipt_scope(request: HttpRequest) -> LocationScope:
    """The stores whose receipts and returns the request's user sees."""
    user: Any = request.user
    if user.is_superuser:
        return EVERY_STORE
    names = set(user.groups.values_list("name", flat=True))
    if roles.STORE_STAFF not in names or names & NETWORK_WIDE_ROLES:
        return EVERY_STORE
    return scope_of(request)


def narrow_to_stores(request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
    """``queryset`` (of rows with a ``store``) narrowed to the stores the user sees."""
    return receipt_scope(request).narrow(queryset, "store_id")
