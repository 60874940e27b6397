"""The transfer workflow in the back office: create, dispatch, receive, cancel, by role."""

from __future__ import annotations

import pytest
from django.urls import reverse

from omnimall.core import roles
from omnimall.core.models import AuditEntry
from omnimall.inventory.models import StockLevel, StockMovement, Transfer, TransferState
from omnimall.inventory.services import transfers
from tests.inventory.factories import STOCK_ACTOR, level_of
from tests.inventory.test_admin_stock import english_fixture, net_fixture, staff_in  # noqa: F401

pytestmark = pytest.mark.django_db

TRANSFERS = reverse("admin:inventory_transfer_changelist")
ADD = reverse("admin:inventory_transfer_add")


def step_url(transfer, step):
    return reverse(f"admin:inventory_transfer_{step}", args=[transfer.pk])


def new_transfer(source, destination, *lines):
    return transfers.create_transfer(
        source_id=source.pk,
        destination_id=destination.pk,
        lines=[(sku.pk, quantity) for sku, quantity in lines],
        actor=STOCK_ACTOR,
    )


@pytest.fixture
def logistics(client):
    client.force_login(staff_in(roles.LOGISTICS, "lena"))
    return client


def test_logistics_creates_a_transfer_from_pasted_lines(logistics, net):
    lines = f"{net['tee'].code} 5\n{net['cap'].code.lower()}\t2\n\n{net['tee'].code}, 1\n"

    response = logistics.post(
        ADD,
        {
            "source": net["wh"].pk,
            "destination": net["a"].pk,
            "lines": lines,
            "note": "weekend",
        },
    )

    transfer = Transfer.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:inventory_transfer_change", args=[transfer.pk])
    assert dict(transfer.lines.values_list("sku_id", "quantity")) == {
        net["tee"].pk: 6,
        net["cap"].pk: 2,
    }
    assert (transfer.state, transfer.created_by, transfer.note) == ("draft", "lena", "weekend")
    assert AuditEntry.objects.get(action="transfer.created").actor_label == "lena"


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        ("NOPE-1 3", "Unknown SKU “NOPE-1”."),
        ("{tee} many", "Line 1: write a SKU code and a number."),
        ("{tee} 0", "Line 1: the units must be positive."),
        ("   ", "This field is required."),
    ],
)
def test_transfer_form_lists_what_is_wrong_with_the_lines(logistics, net, lines, message):
    response = logistics.post(
        ADD,
        {
            "source": net["wh"].pk,
            "destination": net["a"].pk,
            "lines": lines.format(tee=net["tee"].code),
        },
    )

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Transfer.objects.exists()


def test_transfer_form_refuses_the_same_location_at_both_ends(logistics, net):
    response = logistics.post(
        ADD, {"source": net["a"].pk, "destination": net["a"].pk, "lines": f"{net['tee'].code} 1"}
    )

    assert "Choose a location other than the source." in response.content.decode()
    assert not Transfer.objects.exists()


def test_transfer_goes_draft_to_in_transit_to_received_with_movements_and_audit(logistics, net):
    transfer = new_transfer(net["wh"], net["a"], (net["tee"], 5))
    page = logistics.get(reverse("admin:inventory_transfer_change", args=[transfer.pk]))

    confirm = logistics.get(step_url(transfer, "dispatch"))
    dispatched = logistics.post(step_url(transfer, "dispatch"))
    in_transit_page = logistics.get(reverse("admin:inventory_transfer_change", args=[transfer.pk]))
    received = logistics.post(step_url(transfer, "receive"))

    assert step_url(transfer, "dispatch") in page.content.decode()
    assert step_url(transfer, "receive") not in page.content.decode()
    assert f"{net['tee'].code} × 5" in confirm.content.decode()
    assert dispatched.status_code == 302
    assert step_url(transfer, "receive") in in_transit_page.content.decode()
    assert received.status_code == 302
    transfer.refresh_from_db()
    assert transfer.state == TransferState.RECEIVED
    assert level_of(net["wh"], net["tee"]).on_hand == 35
    assert level_of(net["a"], net["tee"]).on_hand == 11
    assert set(
        StockMovement.objects.filter(reference=transfer.number).values_list("kind", "quantity")
    ) == {("transfer_out", -5), ("transfer_in", 5)}
    assert set(AuditEntry.objects.filter(actor_label="lena").values_list("action", flat=True)) == {
        "transfer.dispatched",
        "transfer.received",
    }


def test_dispatch_short_of_stock_is_shown_as_an_error_not_a_500(logistics, net):
    transfer = new_transfer(net["b"], net["a"], (net["tee"], 50))

    response = logistics.post(step_url(transfer, "dispatch"))

    html = response.content.decode()
    assert response.status_code == 200
    assert (
        f"Not enough stock at Location st-b for transfer {transfer.number}: "
        f"{net['tee'].code}: 50 wanted, 2 available."
    ) in html
    assert "sku id" not in html
    assert "location id" not in html
    transfer.refresh_from_db()
    assert transfer.state == TransferState.DRAFT
    assert level_of(net["b"], net["tee"]).on_hand == 2


def test_cancel_needs_a_reason_and_puts_units_in_transit_back(logistics, net):
    transfer = new_transfer(net["wh"], net["b"], (net["cap"], 2))
    transfers.dispatch_transfer(transfer_id=transfer.pk, actor=STOCK_ACTOR)

    without = logistics.post(step_url(transfer, "cancel"), {"reason": "  "})
    with_reason = logistics.post(step_url(transfer, "cancel"), {"reason": "truck broke down"})

    assert without.status_code == 200
    assert with_reason.status_code == 302
    transfer.refresh_from_db()
    assert transfer.state == TransferState.CANCELLED
    assert level_of(net["wh"], net["cap"]).on_hand == 3
    entry = AuditEntry.objects.get(action="transfer.cancelled")
    assert (entry.actor_label, entry.reason) == ("lena", "truck broke down")


def test_a_step_in_the_wrong_state_is_a_message(logistics, net):
    transfer = new_transfer(net["wh"], net["a"], (net["tee"], 1))

    response = logistics.post(step_url(transfer, "receive"))

    html = response.content.decode()
    assert response.status_code == 200
    assert (
        f"Transfer {transfer.number} is draft: only a transfer in transit can be received."
    ) in html
    assert "transfer id" not in html


def test_dispatch_action_moves_several_transfers_and_reports_refusals(logistics, net):
    ok = new_transfer(net["wh"], net["a"], (net["tee"], 1))
    short = new_transfer(net["b"], net["a"], (net["tee"], 9))

    response = logistics.post(
        TRANSFERS,
        {"action": "dispatch_selected", "_selected_action": [ok.pk, short.pk], "index": "0"},
        follow=True,
    )

    html = response.content.decode()
    assert f"1 transfer dispatched: {ok.number} (Location wh-sh → Location st-a)." in html
    assert f"Not enough stock at Location st-b for transfer {short.number}" in html
    assert "sku id" not in html
    assert dict(Transfer.objects.values_list("pk", "state")) == {
        ok.pk: "in_transit",
        short.pk: "draft",
    }


def test_dispatch_action_names_a_transfer_already_under_way_by_number_and_state(logistics, net):
    moving = new_transfer(net["wh"], net["a"], (net["tee"], 1))
    transfers.dispatch_transfer(transfer_id=moving.pk, actor=STOCK_ACTOR)

    response = logistics.post(
        TRANSFERS,
        {"action": "dispatch_selected", "_selected_action": [moving.pk], "index": "0"},
        follow=True,
    )

    shown = [str(message) for message in response.context["messages"]]
    assert shown == [f"Transfer {moving.number} is in transit: only a draft can be dispatched."]


def test_steps_say_what_moved_where_when_they_succeed(logistics, net):
    transfer = new_transfer(net["wh"], net["a"], (net["tee"], 3), (net["cap"], 2))

    dispatched = logistics.post(step_url(transfer, "dispatch"), follow=True)
    received = logistics.post(step_url(transfer, "receive"), follow=True)

    assert (
        f"Transfer {transfer.number} dispatched: 5 units left Location wh-sh for Location st-a."
    ) in dispatched.content.decode()
    assert (
        f"Transfer {transfer.number} received: 5 units from Location wh-sh are in stock at "
        "Location st-a."
    ) in received.content.decode()


def test_transfer_list_counts_lines_and_units_with_bounded_queries(
    logistics, net, django_assert_max_num_queries
):
    for _ in range(30):
        new_transfer(net["wh"], net["a"], (net["tee"], 1), (net["cap"], 2))

    with django_assert_max_num_queries(10):
        response = logistics.get(TRANSFERS)

    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('<td class="field-line_count">2</td>') == 30
    assert html.count('<td class="field-units">3</td>') == 30


# --- store staff -----------------------------------------------------------------------


@pytest.fixture
def store_a_staff(client, net):
    client.force_login(staff_in(roles.STORE_STAFF, "sam", stores=[net["a"]]))
    return client


def test_store_staff_sees_only_transfers_touching_their_store(store_a_staff, net):
    mine = new_transfer(net["wh"], net["a"], (net["tee"], 1))
    other = new_transfer(net["wh"], net["b"], (net["tee"], 1))

    listing = store_a_staff.get(TRANSFERS).content.decode()
    other_page = store_a_staff.get(reverse("admin:inventory_transfer_change", args=[other.pk]))

    assert mine.number in listing
    assert other.number not in listing
    assert other_page.status_code == 302  # "does not exist" → back to the list


def test_store_staff_receives_into_their_store_but_cannot_dispatch_from_the_warehouse(
    store_a_staff, net
):
    transfer = new_transfer(net["wh"], net["a"], (net["tee"], 4))

    dispatch = store_a_staff.post(step_url(transfer, "dispatch"))
    transfers.dispatch_transfer(transfer_id=transfer.pk, actor=STOCK_ACTOR)
    receive = store_a_staff.post(step_url(transfer, "receive"))

    assert dispatch.status_code == 403
    assert receive.status_code == 302
    assert level_of(net["a"], net["tee"]).on_hand == 10
    assert AuditEntry.objects.get(action="transfer.received").actor_label == "sam"


def test_store_staff_of_store_a_cannot_touch_a_transfer_between_others(store_a_staff, net):
    transfer = new_transfer(net["wh"], net["b"], (net["tee"], 1))

    for step in ("dispatch", "cancel"):
        assert store_a_staff.post(step_url(transfer, step), {"reason": "x"}).status_code == 404
    created = store_a_staff.post(
        ADD, {"source": net["wh"].pk, "destination": net["b"].pk, "lines": f"{net['tee'].code} 1"}
    )

    assert "only create transfers from or to a location you work at" in created.content.decode()
    assert Transfer.objects.count() == 1
    transfer.refresh_from_db()
    assert transfer.state == TransferState.DRAFT


def test_store_staff_requests_stock_for_their_store(store_a_staff, net):
    response = store_a_staff.post(
        ADD, {"source": net["wh"].pk, "destination": net["a"].pk, "lines": f"{net['tee'].code} 3"}
    )

    assert response.status_code == 302
    assert Transfer.objects.get().created_by == "sam"


def test_staff_without_a_stock_role_cannot_see_or_create_transfers(client, net):
    client.force_login(staff_in(roles.CUSTOMER_SERVICE, "cory"))
    transfer = new_transfer(net["wh"], net["a"], (net["tee"], 1))

    assert client.get(TRANSFERS).status_code == 403
    assert client.get(ADD).status_code == 403
    assert client.post(step_url(transfer, "dispatch")).status_code == 403
    assert StockLevel.objects.get(pk=level_of(net["wh"], net["tee"]).pk).on_hand == 40
