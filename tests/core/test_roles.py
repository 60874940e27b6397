"""Staff roles: groups created by a migration, each seeing and changing only what it needs."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission

from omnimall.catalog.models import Price
from omnimall.core import audit, roles
from omnimall.core.actors import Actor
from omnimall.core.models import AuditEntry
from tests.catalog.factories import make_category, make_product
from tests.catalog.test_admin import admin_form_data

pytestmark = pytest.mark.django_db


def staff_in(role: str, username: str):
    user = get_user_model().objects.create_user(username, password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def product():
    return make_product(category=make_category("tops"), variants=(("M", "black", "199.00"),))


def perms_of(role: str) -> set[str]:
    return {
        f"{app}.{codename}"
        for app, codename in Group.objects.get(name=role).permissions.values_list(
            "content_type__app_label", "codename"
        )
    }


def test_migration_creates_a_group_for_every_role():
    names = set(Group.objects.values_list("name", flat=True))

    assert {
        "merchandiser",
        "marketing",
        "logistics",
        "customer service",
        "store staff",
        "head of e-commerce",
    } <= names


def test_merchandiser_may_change_catalog_and_prices_but_not_audit_or_api_keys():
    perms = perms_of(roles.MERCHANDISER)

    assert {
        "catalog.change_product",
        "catalog.add_price",
        "catalog.delete_sku",
        "catalog.change_category",
    } <= perms
    assert not any(p.startswith("core.") for p in perms)


def test_view_only_roles_cannot_change_the_catalog():
    for role in (roles.MARKETING, roles.CUSTOMER_SERVICE, roles.STORE_STAFF, roles.LOGISTICS):
        perms = perms_of(role)
        assert "catalog.view_product" in perms
        assert not {p for p in perms if p.startswith("catalog.") and "view_" not in p}


def test_logistics_may_change_stock_locations_and_store_staff_may_only_view_them():
    assert "inventory.change_stocklocation" in perms_of(roles.LOGISTICS)
    assert "inventory.view_stocklocation" in perms_of(roles.STORE_STAFF)
    assert "inventory.change_stocklocation" not in perms_of(roles.STORE_STAFF)


def test_head_of_ecommerce_views_audit_trail_and_api_keys_but_changes_nothing():
    perms = perms_of(roles.HEAD_OF_ECOMMERCE)

    assert {"core.view_auditentry", "core.view_apikey", "catalog.view_price"} <= perms
    # Taking the order list away as a CSV reads, it changes nothing.
    assert all(".view_" in p for p in perms - {"orders.export_order"})


def test_roles_working_with_orders_in_bulk_may_export_them_but_store_staff_may_not():
    exporting = [role for role in roles.ROLES if "orders.export_order" in perms_of(role)]

    assert sorted(exporting) == sorted(
        [roles.CUSTOMER_SERVICE, roles.LOGISTICS, roles.FINANCE, roles.HEAD_OF_ECOMMERCE]
    )
    assert "orders.view_order" in perms_of(roles.STORE_STAFF)  # they see orders, one by one


def test_merchandiser_and_marketing_see_zero_result_searches():
    assert "search.view_zeroresultquery" in perms_of(roles.MERCHANDISER)
    assert "search.view_zeroresultquery" in perms_of(roles.MARKETING)
    assert "search.view_zeroresultquery" in perms_of(roles.HEAD_OF_ECOMMERCE)


def test_sync_roles_restores_a_role_when_its_group_was_edited_by_hand():
    group = Group.objects.get(name=roles.MARKETING)
    group.permissions.add(Permission.objects.get(codename="change_product"))

    report = roles.sync_roles()
    roles.sync_roles()  # idempotent

    assert "catalog.change_product" not in perms_of(roles.MARKETING)
    assert report.missing == ()


def test_sync_roles_reports_permissions_that_do_not_exist():
    report = roles.sync_roles(roles={"tester": ("catalog.fly_product", "catalog.view_*")})

    assert report.missing == ("catalog.fly_product",)
    assert "catalog.view_brand" in perms_of("tester")


def test_merchandiser_opens_product_list_and_changes_a_price(client, product):
    client.force_login(staff_in(roles.MERCHANDISER, "merch"))
    price = Price.objects.get(sku__product=product)
    url = f"/admin/catalog/price/{price.pk}/change/"

    listing = client.get("/admin/catalog/product/")
    response = client.post(url, admin_form_data(client.get(url), list_price="179.00"))

    assert listing.status_code == 200
    assert response.status_code == 302
    price.refresh_from_db()
    assert price.list_price == Decimal("179.00")
    assert AuditEntry.objects.get(action="price.changed").actor_label == "merch"


def test_customer_service_cannot_change_a_product(client, product):
    client.force_login(staff_in(roles.CUSTOMER_SERVICE, "cs"))
    url = f"/admin/catalog/product/{product.pk}/change/"

    view = client.get(url)
    response = client.post(url, {"name_en": "Hacked"})
    add = client.get("/admin/catalog/product/add/")

    assert view.status_code == 200  # may look
    assert response.status_code == 403
    assert add.status_code == 403
    product.refresh_from_db()
    assert product.name_en != "Hacked"


def test_customer_service_cannot_see_the_audit_trail(client):
    client.force_login(staff_in(roles.CUSTOMER_SERVICE, "cs"))

    response = client.get("/admin/core/auditentry/")

    assert response.status_code == 403


def test_head_of_ecommerce_sees_audit_entries_but_cannot_edit_them(client):
    entry = audit.record(actor=Actor.system(), action="price.set", reason="visible reason")
    client.force_login(staff_in(roles.HEAD_OF_ECOMMERCE, "head"))

    listing = client.get("/admin/core/auditentry/")
    detail = client.get(f"/admin/core/auditentry/{entry.pk}/change/")
    edit = client.post(f"/admin/core/auditentry/{entry.pk}/change/", {"reason": "x"})

    assert listing.status_code == 200
    assert b"visible reason" in listing.content
    assert detail.status_code == 200
    assert edit.status_code == 403


def test_sync_roles_command_lists_each_role_with_its_permission_count():
    from io import StringIO

    from django.core.management import call_command

    Group.objects.filter(name=roles.STORE_STAFF).delete()
    out = StringIO()

    call_command("sync_roles", stdout=out)

    assert "store staff: " in out.getvalue()
    assert "inventory.view_stocklocation" in perms_of(roles.STORE_STAFF)


def stock_location_form(**overrides):
    data = {
        "code": "sh-01",
        "name_en": "Shanghai 1",
        "name_zh": "上海一店",
        "kind": "store",
        "city": "Shanghai",
        "priority": "100",
        "can_ship": "on",
        "is_active": "on",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(("role", "status"), [(roles.LOGISTICS, 302), (roles.STORE_STAFF, 403)])
def test_only_logistics_may_edit_a_stock_location(client, role, status):
    from omnimall.inventory.models import StockLocation

    location = StockLocation.objects.create(
        code="sh-01", name_en="Shanghai 1", name_zh="上海一店", kind="store", city="Shanghai"
    )
    client.force_login(staff_in(role, "someone"))

    response = client.post(
        f"/admin/inventory/stocklocation/{location.pk}/change/",
        stock_location_form(priority="10", change_reason="closer to the warehouse"),
    )

    assert response.status_code == status
    location.refresh_from_db()
    assert (location.priority == 10) is (status == 302)
    assert AuditEntry.objects.filter(action="stocklocation.changed").exists() is (status == 302)
