"""Which locations a staff member's stock work covers.

Logistics (and the head of e-commerce, read-only) work at every location; store staff only
at the stores whose ``StockLocation.staff`` lists them. Every inventory admin list is
narrowed with ``LocationScope.narrow`` and every write is checked with ``allows``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.utils.translation import gettext as _

from omnimall.core.roles import works_at_every_location
from omnimall.inventory.models import StockLocation

if TYPE_CHECKING:
    from django.db.models import QuerySet
    from django.http import HttpRequest

_CACHE_ATTR = "_omnimall_location_scope"


@dataclass(frozen=True, slots=True)
class LocationScope:
    location_ids: frozenset[int] | None  # None: every location

    @property
    def everywhere(self) -> bool:
        return self.location_ids is None

    def allows(self, location_id: int | None) -> bool:
        if location_id is None:
            return False
        return self.location_ids is None or location_id in self.location_ids

    def narrow(self, queryset: QuerySet[Any], *fields: str) -> QuerySet[Any]:
        """Rows whose location (any of ``fields``, e.g. ``"location_id"``) is in scope."""
        if self.location_ids is None:
            return queryset
        match = Q()
        for field in fields:
            match |= Q(**{f"{field}__in": sorted(self.location_ids)})
        return queryset.filter(match)

    def locations(self) -> QuerySet[StockLocation]:
        return self.narrow(StockLocation.objects.all(), "pk")

    def require(self, *location_ids: int | None, any_of: bool = False) -> None:
        """Raise ``PermissionDenied`` (403) unless the locations are in scope."""
        allowed = [self.allows(location_id) for location_id in location_ids]
        if not (any(allowed) if any_of else all(allowed)):
            raise PermissionDenied(_("You do not work at this location."))


def scope_of(request: HttpRequest) -> LocationScope:
    """The request user's scope, computed once per request."""
    cached: LocationScope | None = getattr(request, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    user = request.user
    if works_at_every_location(user):
        scope = LocationScope(location_ids=None)
    elif user.is_authenticated:
        ids = StockLocation.objects.filter(staff=user).values_list("pk", flat=True)
        scope = LocationScope(location_ids=frozenset(ids))
    else:
        scope = LocationScope(location_ids=frozenset())
    setattr(request, _CACHE_ATTR, scope)
    return scope
