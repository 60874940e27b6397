"""Which orders a staff member sees: store staff those of their stores, others all."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Q

from omnimall.core.roles import STORE_STAFF
from omnimall.inventory.admin.scope import LocationScope, scope_of

if TYPE_CHECKING:
    from django.db.models import QuerySet
    from django.http import HttpRequest


def order_scope(request: HttpRequest) -> LocationScope:
    """Store staff work at their stores; other order staff (customer service) everywhere."""
    scope = scope_of(request)
    if scope.everywhere:
        return scope
    if request.user.groups.filter(name=STORE_STAFF).exists():
        return scope
    return LocationScope(location_ids=None)


def narrow_orders(request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
    """Orders picked up at, credited to or served by one of the user's stores."""
    scope = order_scope(request)
    if scope.location_ids is None:
        return queryset
    ids = sorted(scope.location_ids)
    return queryset.filter(
        Q(pickup_store_id__in=ids) | Q(credited_store_id__in=ids) | Q(pk__in=_served_by(ids))
    )


def _served_by(location_ids: list[int]) -> Any:
    from omnimall.orders.models import OrderAllocation

    return OrderAllocation.objects.filter(location_id__in=location_ids).values("line__order_id")
