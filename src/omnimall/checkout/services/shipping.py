"""Shipping zones edited by staff (the back office): save and delete, audited.

Each change is one transaction: the zone row, its provinces, one audit entry (with the
provinces before and after, which the row itself does not hold) and a bump of the zones'
cache version, so every worker prices with the new rates at its next read and a change
that rolls back leaves the cache as it was.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction

from omnimall.checkout.domain import delivery_days_error
from omnimall.checkout.errors import InvalidShippingZoneError, ProvinceInOtherZoneError
from omnimall.checkout.models import ShippingZone, ShippingZoneProvince
from omnimall.checkout.provinces import BY_CODE, CODES
from omnimall.checkout.shipping import SHIPPING_CACHE_NAMESPACE, find_province_conflicts
from omnimall.core import audit
from omnimall.core.actors import Actor
from omnimall.core.cache_versions import bump_version


def _zone_errors(zone: ShippingZone, provinces: set[str]) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not str(zone.name_zh or "").strip():
        errors["name_zh"] = "required"
    if not isinstance(zone.fee, Decimal) or zone.fee < 0:
        errors["fee"] = "a non-negative amount"
    if zone.free_from is not None and (
        not isinstance(zone.free_from, Decimal) or zone.free_from < 0
    ):
        errors["free_from"] = "empty (never free) or a non-negative amount"
    if problem := delivery_days_error(zone.days_min, zone.days_max):
        errors["days"] = problem
    unknown = sorted(code for code in provinces if code not in BY_CODE)
    if unknown:
        errors["provinces"] = f"unknown province codes: {', '.join(unknown)}"
    return errors


def _provinces_of(zone: ShippingZone) -> list[str]:
    if zone.pk is None:
        return []
    held = set(ShippingZoneProvince.objects.filter(zone=zone).values_list("province", flat=True))
    return [code for code in CODES if code in held]


@transaction.atomic
def save_shipping_zone(
    *, zone: ShippingZone, provinces: Iterable[str], actor: Actor, reason: str = ""
) -> ShippingZone:
    """Create or change ``zone`` (its fields as set on the instance) with exactly these
    provinces (codes). 422 ``invalid_shipping_zone`` for bad values; 422
    ``province_in_other_zone`` (``details.provinces``: code → zone) when another zone
    holds one of them. Saving with nothing changed writes nothing."""
    chosen = set(provinces)
    errors = _zone_errors(zone, chosen)
    if errors:
        raise InvalidShippingZoneError(errors=errors)
    wanted = [code for code in CODES if code in chosen]  # in the list's order, for the trail
    taken = find_province_conflicts(provinces=wanted, zone_id=zone.pk)
    if taken:
        raise ProvinceInOtherZoneError(provinces=taken)
    existing = ShippingZone.objects.filter(pk=zone.pk).first() if zone.pk is not None else None
    before: dict[str, Any] = {} if existing is None else audit.snapshot(existing)
    had = _provinces_of(zone)
    zone.save()
    changes = audit.diff(before, audit.snapshot(zone))
    if had != wanted:
        changes["provinces"] = [had, wanted]
        _replace_provinces(zone, had=had, wanted=wanted)
    if existing is not None and not changes:
        return zone
    verb = "created" if existing is None else "changed"
    audit.record(
        actor=actor, action=f"shippingzone.{verb}", subject=zone, changes=changes, reason=reason
    )
    bump_version(SHIPPING_CACHE_NAMESPACE)
    return zone


def _replace_provinces(zone: ShippingZone, *, had: list[str], wanted: list[str]) -> None:
    ShippingZoneProvince.objects.filter(zone=zone).exclude(province__in=wanted).delete()
    added = [code for code in wanted if code not in had]
    try:
        with transaction.atomic():  # a savepoint: the refusal below must not be a 500
            ShippingZoneProvince.objects.bulk_create(
                ShippingZoneProvince(zone=zone, province=code) for code in added
            )
    except IntegrityError:
        # Another zone took one of them since the check above (a concurrent save).
        raise ProvinceInOtherZoneError(
            provinces=find_province_conflicts(provinces=added, zone_id=zone.pk)
        ) from None


@transaction.atomic
def delete_shipping_zone(*, zone: ShippingZone, actor: Actor, reason: str = "") -> None:
    """Delete a zone: its provinces pay the default rate (and are delivered to) again."""
    changes: dict[str, Any] = {k: [v, None] for k, v in audit.snapshot(zone).items()}
    changes["provinces"] = [_provinces_of(zone), None]
    audit.record(
        actor=actor, action="shippingzone.deleted", subject=zone, changes=changes, reason=reason
    )
    zone.delete()
    bump_version(SHIPPING_CACHE_NAMESPACE)
