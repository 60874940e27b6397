"""The stock back office as real staff use it: logistics, store staff, people without a role."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse

from omnimall.core import roles
from omnimall.core.models import AuditEntry
from omnimall.inventory import services
from omnimall.inventory.models import LocationKind, MovementKind, StockLevel, StockMovement
from tests.inventory.factories import STOCK_ACTOR, level_of, make_location, make_skus

pytestmark = pytest.mark.django_db

LEVELS = reverse("admin:inventory_stocklevel_changelist")
MOVEMENTS = reverse("admin:inventory_stockmovement_changelist")
ADJUST = reverse("admin:inventory_stocklevel_adjust")


@pytest.fixture(autouse=True, name="_english")
def english_fixture(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"  # Django's own messages untranslated


def staff_in(role: str | None, username: str, *, stores=()):
    user = get_user_model().objects.create_user(username, password="pw", is_staff=True)
    if role is not None:
        user.groups.add(Group.objects.get(name=role))
    for store in stores:
        store.staff.add(user)
    return user


def receive(location, sku, quantity, reference="PO-1"):
    services.receive_stock(
        location_id=location.pk,
        sku_id=sku.pk,
        quantity=quantity,
        actor=STOCK_ACTOR,
        reference=reference,
    )
    return level_of(location, sku)


@pytest.fixture(name="net")
def net_fixture():
    """A warehouse and two stores in two cities; two SKUs stocked unevenly."""
    warehouse = make_location("wh-sh", city="Shanghai", priority=10)
    store_a = make_location("st-a", kind=LocationKind.STORE, city="Shanghai")
    store_b = make_location("st-b", kind=LocationKind.STORE, city="Beijing")
    tee, cap = make_skus(2)
    receive(warehouse, tee, 40)
    receive(warehouse, cap, 3)
    receive(store_a, tee, 6)
    receive(store_b, tee, 2)
    return {"wh": warehouse, "a": store_a, "b": store_b, "tee": tee, "cap": cap}


@pytest.fixture
def logistics(client):
    client.force_login(staff_in(roles.LOGISTICS, "lena"))
    return client


@pytest.fixture
def store_a_staff(client, net):
    client.force_login(staff_in(roles.STORE_STAFF, "sam", stores=[net["a"]]))
    return client


def rows_of(response) -> list[str]:
    """The (SKU, location) of each row of the stock-level list, in order."""
    html = response.content.decode()
    return re.findall(r'<td class="field-location_code">([^<]+)</td>', html)


def adjust_form(location, sku, quantity, reason="broken in the stock room", **extra):
    return {
        "location": str(location.pk),
        "sku": sku.code,
        "quantity": str(quantity),
        "kind": MovementKind.ADJUSTMENT,
        "reason": reason,
        **extra,
    }


# --- stock levels list ------------------------------------------------------------------


def test_levels_list_shows_counters_and_available_when_logistics_opens_it(logistics, net):
    services.reserve_stock(location_id=net["a"].pk, sku_id=net["tee"].pk, quantity=2)
    services.set_safety_stock(
        location_id=net["a"].pk, sku_id=net["tee"].pk, safety_stock=1, actor=STOCK_ACTOR
    )

    response = logistics.get(LEVELS, {"location": net["a"].pk})

    html = response.content.decode()
    assert response.status_code == 200
    assert rows_of(response) == ["st-a"]
    for column, value in (("on_hand", 6), ("reserved", 2), ("safety_stock", 1), ("available", 3)):
        assert f'<td class="field-{column}">{value}</td>' in html
    assert net["tee"].code in html


def test_levels_list_answers_with_bounded_queries_when_hundreds_of_levels(
    logistics, net, django_assert_max_num_queries
):
    skus = make_skus(6)
    for n in range(40):
        store = make_location(f"bulk-{n}", kind=LocationKind.STORE, city=f"City {n % 5}")
        StockLevel.objects.bulk_create(
            StockLevel(location=store, sku=sku, on_hand=n) for sku in skus
        )

    with django_assert_max_num_queries(12):
        response = logistics.get(LEVELS)

    assert response.status_code == 200
    assert len(rows_of(response)) == 100  # one page


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"stock": "out"}, set()),
        ({"stock": "in"}, {("tee", "wh-sh"), ("cap", "wh-sh"), ("tee", "st-a"), ("tee", "st-b")}),
        ({"stock": "low"}, {("cap", "wh-sh"), ("tee", "st-b")}),
        ({"location__kind__exact": "store"}, {("tee", "st-a"), ("tee", "st-b")}),
        ({"city": "Beijing"}, {("tee", "st-b")}),
        ({"city": "Atlantis\x00"}, set()),
        ({"location": "not-a-number"}, set()),
    ],
)
def test_levels_filters_narrow_the_list_when_chosen(logistics, net, params, expected):
    names = {net["tee"].code: "tee", net["cap"].code: "cap"}

    response = logistics.get(LEVELS, params)

    html = response.content.decode()
    skus = re.findall(r'<th class="field-sku_code"><a [^>]*>([^<]+)</a></th>', html)
    assert response.status_code == 200
    assert {(names[s], loc) for s, loc in zip(skus, rows_of(response), strict=True)} == expected


def test_levels_out_of_stock_filter_lists_a_level_whose_units_are_all_reserved(logistics, net):
    services.reserve_stock(location_id=net["b"].pk, sku_id=net["tee"].pk, quantity=2)

    response = logistics.get(LEVELS, {"stock": "out"})

    assert rows_of(response) == ["st-b"]


def test_low_stock_page_lists_lowest_available_first(logistics, net):
    response = logistics.get(reverse("admin:inventory_stocklevel_low"), follow=True)

    assert response.status_code == 200
    assert rows_of(response) == ["st-b", "wh-sh"]  # 2 available, then 3


@pytest.mark.parametrize("term", ["by-code", "by-barcode", "by-name"])
def test_levels_search_finds_a_sku_by_code_barcode_or_product_name(logistics, net, term):
    tee = net["tee"]
    tee.barcode = "6901234567890"
    tee.save(update_fields=["barcode"])
    query = {"by-code": tee.code, "by-barcode": tee.barcode, "by-name": tee.product.name_en}[term]

    response = logistics.get(LEVELS, {"q": query})

    expected = (
        ["st-a", "st-b", "wh-sh", "wh-sh"] if term == "by-name" else ["st-a", "st-b", "wh-sh"]
    )
    assert sorted(rows_of(response)) == expected  # the two SKUs share their product


def test_level_counters_cannot_be_edited_or_added_in_the_admin(logistics, net):
    level = level_of(net["a"], net["tee"])
    url = reverse("admin:inventory_stocklevel_change", args=[level.pk])

    page = logistics.get(url)
    post = logistics.post(url, {"on_hand": "999"})
    add = logistics.get(reverse("admin:inventory_stocklevel_add"))

    assert page.status_code == 200
    assert 'name="on_hand"' not in page.content.decode()
    assert post.status_code == 403
    assert add.status_code == 403
    level.refresh_from_db()
    assert level.on_hand == 6


def test_level_page_draws_on_hand_over_time_and_stock_by_location(
    logistics, net, django_assert_max_num_queries
):
    level = receive(net["a"], net["tee"], 4, reference="PO-2")
    services.adjust_stock(
        location_id=net["a"].pk,
        sku_id=net["tee"].pk,
        quantity=-3,
        reason="damaged",
        actor=STOCK_ACTOR,
    )
    url = reverse("admin:inventory_stocklevel_change", args=[level.pk])

    with django_assert_max_num_queries(10):
        response = logistics.get(url)

    html = response.content.decode()
    assert html.count('<svg class="stock-chart"') == 2
    path = re.search(r'<path d="([^"]+)"', html)[1]
    heights = [float(p.split(",")[1]) for p in re.findall(r"[\d.]+,[\d.]+", path)]
    assert heights[0] > min(heights)  # the line rises from 6 to 10 then falls to 7
    assert ">wh-sh</text>" in html
    assert ">st-b</text>" in html
    assert f"?level={level.pk}" in html  # the link to its movements


# --- movements ------------------------------------------------------------------------


def test_movement_history_of_a_level_is_read_only_and_filtered(logistics, net):
    level = level_of(net["a"], net["tee"])

    response = logistics.get(MOVEMENTS, {"level": level.pk})
    add = logistics.get(reverse("admin:inventory_stockmovement_add"))

    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('<td class="field-location_code">st-a</td>') == 1
    assert '<td class="field-location_code">st-b</td>' not in html
    assert add.status_code == 403


@pytest.mark.parametrize(
    ("params", "count"),
    [
        ({"kind__exact": "receipt"}, 5),
        ({"kind__exact": "adjustment"}, 1),
        ({"q": "PO-9"}, 1),
        ({"q": "PO-"}, 5),
        ({"created_at__gte": "2000-01-01T00:00:00+00:00"}, 6),
    ],
)
def test_movement_history_filters_by_kind_date_and_reference(logistics, net, params, count):
    receive(net["b"], net["cap"], 1, reference="PO-9")
    services.adjust_stock(
        location_id=net["wh"].pk,
        sku_id=net["cap"].pk,
        quantity=-1,
        reason="lost",
        actor=STOCK_ACTOR,
        reference="CNT-1",
    )
    kinds = dict(StockMovement.objects.values_list("reference", "kind"))
    assert kinds["CNT-1"] == "adjustment"

    response = logistics.get(MOVEMENTS, params)

    assert response.status_code == 200
    assert response.content.decode().count('<td class="field-kind">') == count


def test_movement_search_by_sku_code_finds_its_movements(logistics, net):
    response = logistics.get(MOVEMENTS, {"q": net["cap"].code})

    assert response.content.decode().count('<td class="field-kind">') == 1


# --- adjustments ----------------------------------------------------------------------


def test_logistics_adjusts_stock_and_the_change_is_in_ledger_and_audit_trail(logistics, net):
    response = logistics.post(ADJUST, adjust_form(net["b"], net["tee"], -1, reference="CNT-7"))

    level = level_of(net["b"], net["tee"])
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:inventory_stocklevel_change", args=[level.pk])
    assert level.on_hand == 1
    movement = StockMovement.objects.get(reference="CNT-7")
    assert (movement.kind, movement.quantity, movement.actor_label) == ("adjustment", -1, "lena")
    entry = AuditEntry.objects.get(action="stock.adjustment")
    assert (entry.actor_label, entry.reason) == ("lena", "broken in the stock room")


def test_count_correction_creates_a_level_the_location_never_held(logistics, net):
    form = adjust_form(net["b"], net["cap"], 4, reason="found in count", kind="count_correction")

    response = logistics.post(ADJUST, form)

    assert response.status_code == 302
    assert level_of(net["b"], net["cap"]).on_hand == 4
    assert AuditEntry.objects.filter(action="stock.count_correction", actor_label="lena").exists()


def test_adjustment_below_reserved_is_a_form_error_not_a_500(logistics, net):
    services.reserve_stock(location_id=net["a"].pk, sku_id=net["tee"].pk, quantity=5)

    response = logistics.post(ADJUST, adjust_form(net["a"], net["tee"], -3))

    html = response.content.decode()
    assert response.status_code == 200
    assert "fewer units on hand than are reserved" in html
    assert "reserved: 5" in html
    assert level_of(net["a"], net["tee"]).on_hand == 6
    assert not AuditEntry.objects.filter(action="stock.adjustment").exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("reason", "   ", "This field is required."),
        ("quantity", "0", "other than 0"),
        ("quantity", "99999999999", "less than or equal to"),
        ("sku", "NO-SUCH-SKU", "No SKU has this code"),
    ],
)
def test_adjustment_form_refuses_bad_input_with_a_message(logistics, net, field, value, message):
    form = adjust_form(net["a"], net["tee"], 1)
    form[field] = value

    response = logistics.post(ADJUST, form)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert level_of(net["a"], net["tee"]).on_hand == 6


def test_adjust_page_is_prefilled_from_a_level(logistics, net):
    level = level_of(net["a"], net["tee"])

    response = logistics.get(ADJUST, {"level": level.pk})

    html = response.content.decode()
    assert response.status_code == 200
    assert f'value="{net["tee"].code}"' in html
    assert f'<option value="{net["a"].pk}" selected>' in html


# --- store staff: their store only ----------------------------------------------------


def test_store_staff_sees_only_the_levels_and_movements_of_their_store(store_a_staff, net):
    levels = store_a_staff.get(LEVELS)
    movements = store_a_staff.get(MOVEMENTS)
    other = level_of(net["b"], net["tee"])
    other_page = store_a_staff.get(reverse("admin:inventory_stocklevel_change", args=[other.pk]))

    assert rows_of(levels) == ["st-a"]
    assert movements.content.decode().count('<td class="field-location_code">') == 1
    assert "st-a" in movements.content.decode()
    assert other_page.status_code == 302  # "does not exist" → back to the list
    assert store_a_staff.get(LEVELS, {"location": net["b"].pk}).status_code == 200


def test_store_staff_adjusts_stock_of_their_own_store(store_a_staff, net):
    response = store_a_staff.post(ADJUST, adjust_form(net["a"], net["tee"], -2))

    assert response.status_code == 302
    assert level_of(net["a"], net["tee"]).on_hand == 4
    assert AuditEntry.objects.get(action="stock.adjustment").actor_label == "sam"


def test_store_staff_of_store_a_cannot_adjust_store_b(store_a_staff, net):
    posted = store_a_staff.post(ADJUST, adjust_form(net["b"], net["tee"], -1))
    prefilled = store_a_staff.get(ADJUST, {"level": level_of(net["b"], net["tee"]).pk})
    form = store_a_staff.get(ADJUST).content.decode()

    assert posted.status_code == 200
    assert "Select a valid choice" in posted.content.decode()
    assert prefilled.status_code == 404
    assert f'<option value="{net["b"].pk}"' not in form
    assert level_of(net["b"], net["tee"]).on_hand == 2
    assert not AuditEntry.objects.filter(action="stock.adjustment").exists()


def test_store_staff_cannot_set_safety_stock_at_another_store(store_a_staff, net):
    other = level_of(net["b"], net["tee"])
    url = reverse("admin:inventory_stocklevel_safety_stock", args=[other.pk])

    response = store_a_staff.post(url, {"safety_stock": "1"})

    assert response.status_code == 404
    other.refresh_from_db()
    assert other.safety_stock == 0


def test_store_staff_without_a_store_sees_no_stock_and_adjusts_nothing(client, net):
    client.force_login(staff_in(roles.STORE_STAFF, "newbie"))

    levels = client.get(LEVELS)
    response = client.post(ADJUST, adjust_form(net["a"], net["tee"], 1))

    assert levels.status_code == 200
    assert rows_of(levels) == []
    assert "Select a valid choice" in response.content.decode()


@pytest.mark.parametrize("url", [LEVELS, MOVEMENTS, ADJUST])
def test_staff_without_a_stock_role_is_refused(client, net, url):
    client.force_login(staff_in(roles.MARKETING, "mia"))

    assert client.get(url).status_code == 403
    assert client.post(ADJUST, adjust_form(net["a"], net["tee"], 1)).status_code == 403
    assert level_of(net["a"], net["tee"]).on_hand == 6


def test_head_of_ecommerce_sees_every_store_but_cannot_adjust(client, net):
    client.force_login(staff_in(roles.HEAD_OF_ECOMMERCE, "hana"))

    levels = client.get(LEVELS)
    adjust = client.post(ADJUST, adjust_form(net["a"], net["tee"], 1))

    assert sorted(rows_of(levels)) == ["st-a", "st-b", "wh-sh", "wh-sh"]
    assert adjust.status_code == 403


# --- safety stock and flash-sale mode ---------------------------------------------------


def test_safety_stock_page_sets_it_through_the_service_and_audits(logistics, net):
    level = level_of(net["a"], net["tee"])
    url = reverse("admin:inventory_stocklevel_safety_stock", args=[level.pk])

    page = logistics.get(url)
    bad = logistics.post(url, {"safety_stock": "-1"})
    good = logistics.post(url, {"safety_stock": "2"})

    assert page.status_code == 200
    assert bad.status_code == 200
    assert good.status_code == 302
    level.refresh_from_db()
    assert level.safety_stock == 2
    entry = AuditEntry.objects.get(action="stock.safety_stock_set")
    assert (entry.actor_label, entry.changes["safety_stock"]) == ("lena", [0, 2])


def test_safety_stock_action_sets_every_selected_level(logistics, net):
    ids = [str(level_of(net["wh"], sku).pk) for sku in (net["tee"], net["cap"])]
    base = {"action": "set_safety_stock_action", "_selected_action": ids}

    page = logistics.post(LEVELS, {**base, "index": "0"})
    applied = logistics.post(LEVELS, {**base, "apply": "Save", "safety_stock": "1"})

    assert page.status_code == 200
    assert 'name="safety_stock"' in page.content.decode()
    assert applied.status_code == 302
    assert set(StockLevel.objects.filter(pk__in=ids).values_list("safety_stock", flat=True)) == {1}
    assert AuditEntry.objects.filter(action="stock.safety_stock_set").count() == 2


# --- the charts ---------------------------------------------------------------------


def test_charts_escape_their_labels_and_draw_nothing_without_data():
    from omnimall.inventory.admin.charts import Bar, on_hand_line_svg, stock_by_location_svg

    bars = stock_by_location_svg([Bar(label="<b>x</b>", on_hand=3, reserved=1)], title="t&t")

    assert "&lt;b&gt;x&lt;/b&gt;" in bars
    assert "<title>t&amp;t</title>" in bars
    assert "<b>" not in bars
    assert "<svg" not in on_hand_line_svg([], title="empty")


def test_movement_history_of_another_stores_level_shows_nothing(store_a_staff, net):
    other = level_of(net["b"], net["tee"])

    response = store_a_staff.get(MOVEMENTS, {"level": other.pk})

    assert response.status_code == 200
    assert '<td class="field-kind">' not in response.content.decode()


def test_movement_and_reservation_lists_answer_with_bounded_queries(
    logistics, net, django_assert_max_num_queries
):
    for n in range(60):
        receive(net["a"], net["cap"], 1, reference=f"PO-{n}")
        services.reserve_stock(location_id=net["a"].pk, sku_id=net["cap"].pk, quantity=1)

    with django_assert_max_num_queries(10):
        movements = logistics.get(MOVEMENTS)
    with django_assert_max_num_queries(10):
        holds = logistics.get(reverse("admin:inventory_reservation_changelist"))

    assert movements.content.decode().count('<td class="field-kind">') == 64
    assert holds.content.decode().count('<td class="field-state">') == 60


@pytest.mark.parametrize(
    ("role", "links"),
    [
        (roles.LOGISTICS, {"low", "adjust", "transfer"}),
        (roles.HEAD_OF_ECOMMERCE, {"low"}),
    ],
)
def test_inventory_index_links_the_stock_work_a_role_may_do(client, role, links):
    client.force_login(staff_in(role, "someone"))
    urls = {
        "low": reverse("admin:inventory_stocklevel_low"),
        "adjust": ADJUST,
        "transfer": reverse("admin:inventory_transfer_add"),
    }

    html = client.get(reverse("admin:app_list", args=["inventory"])).content.decode()

    assert {name for name, url in urls.items() if f'href="{url}"' in html} == links
