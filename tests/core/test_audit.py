"""The audit trail: staff changes are recorded, and the log is readable but immutable in admin."""

from __future__ import annotations

import pytest

from omnimall.catalog import services
from omnimall.catalog.models import Brand
from omnimall.core import audit
from omnimall.core.actors import Actor
from omnimall.core.models import AuditEntry
from tests.catalog.factories import BrandFactory

pytestmark = pytest.mark.django_db

ANNA = Actor(kind="user", id=None, label="anna")


@pytest.fixture
def brand_change_entry():
    brand = BrandFactory(slug="north", name_en="North")
    brand.name_en = "North Face"
    services.save_audited(instance=brand, actor=ANNA, reason="official spelling")
    return AuditEntry.objects.get(action="brand.changed")


def test_save_audited_records_actor_before_after_and_reason_when_a_row_changes(
    brand_change_entry,
):
    entry = brand_change_entry

    assert entry.actor_label == "anna"
    assert entry.actor_kind == "user"
    assert entry.changes == {"name_en": ["North", "North Face"]}
    assert entry.reason == "official spelling"
    assert entry.subject_repr


def test_delete_audited_records_the_deleted_values_when_a_row_is_deleted():
    brand = BrandFactory(slug="gone", name_en="Gone")

    services.delete_audited(instance=brand, actor=ANNA, reason="brand discontinued")

    assert not Brand.objects.filter(slug="gone").exists()
    entry = AuditEntry.objects.get(action="brand.deleted")
    assert entry.changes["slug"] == ["gone", None]
    assert entry.reason == "brand discontinued"


def test_brand_edit_in_admin_records_the_staff_user_as_actor(admin_client, admin_user):
    brand = BrandFactory(slug="south", name_en="South", name_zh="南")

    response = admin_client.post(
        f"/admin/catalog/brand/{brand.pk}/change/",
        {
            "slug": "south",
            "name_en": "South",
            "name_zh": "南方",
            "is_active": "on",
            "change_reason": "Chinese name fixed",
        },
    )

    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="brand.changed")
    assert entry.actor_user == admin_user
    assert entry.changes == {"name_zh": ["南", "南方"]}
    assert entry.reason == "Chinese name fixed"


def test_stock_location_edit_in_admin_is_audited_too(admin_client):
    from omnimall.inventory.models import StockLocation

    location = StockLocation.objects.create(
        code="sh-01", name_en="Shanghai 1", name_zh="上海一店", kind="store", city="Shanghai"
    )

    response = admin_client.post(
        f"/admin/inventory/stocklocation/{location.pk}/change/",
        {
            "code": "sh-01",
            "name_en": "Shanghai 1",
            "name_zh": "上海一店",
            "kind": "store",
            "city": "Shanghai",
            "priority": "50",
            "can_ship": "on",
            "is_active": "on",
        },
    )

    assert response.status_code == 302
    entry = AuditEntry.objects.get(action="stocklocation.changed")
    assert entry.changes["priority"] == [100, 50]


def test_audit_changelist_answers_200_with_bounded_queries_when_hundreds_of_entries(
    admin_client, django_assert_max_num_queries
):
    brand = BrandFactory()
    for n in range(300):
        audit.record(
            actor=ANNA,
            action="brand.changed",
            subject=brand,
            changes={"name_en": [str(n), str(n + 1)]},
            reason=f"reason {n}",
        )

    with django_assert_max_num_queries(10):
        response = admin_client.get("/admin/core/auditentry/")

    assert response.status_code == 200
    assert b"reason 299" in response.content


def test_audit_changelist_filters_and_searches_entries(admin_client, brand_change_entry):
    audit.record(actor=Actor.system("importer"), action="price.imported", reason="other")

    by_action = admin_client.get("/admin/core/auditentry/", {"action": "brand.changed"})
    by_kind = admin_client.get("/admin/core/auditentry/", {"actor_kind": "system"})
    by_search = admin_client.get("/admin/core/auditentry/", {"q": "official"})

    assert list(by_action.context["cl"].result_list) == [brand_change_entry]
    assert [e.action for e in by_kind.context["cl"].result_list] == ["price.imported"]
    assert list(by_search.context["cl"].result_list) == [brand_change_entry]


@pytest.mark.parametrize("query", [{"action": "\x00"}, {"actor_kind": "x\x00"}])
def test_audit_changelist_answers_200_when_filter_values_are_junk(
    admin_client, brand_change_entry, query
):
    response = admin_client.get("/admin/core/auditentry/", query)

    assert response.status_code == 200


def test_audit_detail_shows_before_and_after_as_a_table(admin_client, brand_change_entry):
    response = admin_client.get(f"/admin/core/auditentry/{brand_change_entry.pk}/change/")

    assert response.status_code == 200
    html = response.content.decode()
    assert '<table class="audit-changes">' in html
    assert "<tr><th>name_en</th><td>North</td><td>North Face</td></tr>" in html
    assert "official spelling" in html


def test_audit_detail_escapes_html_in_recorded_values(admin_client):
    entry = audit.record(
        actor=ANNA, action="brand.changed", changes={"name_en": ["<b>x</b>", "<script>y</script>"]}
    )

    response = admin_client.get(f"/admin/core/auditentry/{entry.pk}/change/")

    assert b"<script>y</script>" not in response.content
    assert b"&lt;script&gt;" in response.content


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/admin/core/auditentry/add/"),
        ("post", "/admin/core/auditentry/{pk}/change/"),
        ("post", "/admin/core/auditentry/{pk}/delete/"),
    ],
)
def test_audit_entries_cannot_be_added_changed_or_deleted_when_superuser(
    admin_client, brand_change_entry, method, path
):
    url = path.format(pk=brand_change_entry.pk)

    response = getattr(admin_client, method)(url, {"reason": "rewritten", "post": "yes"})

    assert response.status_code == 403
    brand_change_entry.refresh_from_db()
    assert brand_change_entry.reason == "official spelling"


def test_audit_bulk_delete_action_is_not_offered_when_superuser(admin_client, brand_change_entry):
    response = admin_client.post(
        "/admin/core/auditentry/",
        {
            "action": "delete_selected",
            "post": "yes",
            "_selected_action": [str(brand_change_entry.pk)],
        },
    )

    assert AuditEntry.objects.filter(pk=brand_change_entry.pk).exists()
    assert response.status_code in (200, 302)


def test_the_trail_names_each_action_in_the_staff_members_language(admin_client):
    audit.record(actor=Actor.system("shop"), action="order.cancelled", reason="r")
    audit.record(actor=Actor.system("shop"), action="stock.safety_stock_set", reason="r")
    audit.record(actor=Actor.system("shop"), action="gadget.frobbed", reason="r")  # unknown

    english = admin_client.get("/admin/core/auditentry/", HTTP_ACCEPT_LANGUAGE="en").content
    chinese = admin_client.get("/admin/core/auditentry/", HTTP_ACCEPT_LANGUAGE="zh-hans")

    page = english.decode()
    assert 'Order · cancelled <code class="audit-action">order.cancelled</code>' in page
    assert "Stock · safety stock set" in page
    assert "Gadget · frobbed" in page  # a code nobody labelled is shown, not hidden
    assert "订单 · 已取消" in chinese.content.decode()
