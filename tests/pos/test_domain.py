"""What a till body means, without a database: the fingerprints that tell a retry from a
conflicting request, the times a till can have."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from omnimall.pos import domain, schemas
from omnimall.pos.models import PaymentMethod

RECEIPT: dict[str, Any] = {
    "store": "sh-jingan",
    "receipt_number": "R-1",
    "occurred_at": "2026-11-27T18:30:00+08:00",
    "currency": "CNY",
    "lines": [{"sku": "TEE-M", "quantity": 2, "unit_price": "99.00", "discount": "10.00"}],
    "payments": [
        {"method": "points", "amount": "20.00", "points": 2000, "hold_id": 17},
        {"method": "wechat", "amount": "168.00"},
    ],
    "member": {"card": "612345678901"},
}
# Every field a receipt body can carry, changed one at a time (a path into the body).
RECEIPT_CHANGES: list[tuple[tuple[Any, ...], Any]] = [
    (("store",), "sh-xuhui"),
    (("receipt_number",), "R-2"),
    (("occurred_at",), "2026-11-27T18:31:00+08:00"),
    (("currency",), "HKD"),
    (("lines", 0, "sku"), "TEE-L"),
    (("lines", 0, "quantity"), 3),
    (("lines", 0, "unit_price"), "98.00"),
    (("lines", 0, "discount"), "11.00"),
    (("payments", 1, "method"), "alipay"),
    (("payments", 1, "amount"), "167.00"),
    (("payments", 0, "points"), 2100),
    (("payments", 0, "hold_id"), 18),
    (("member", "card"), "612345678902"),
    (("member", "phone"), "+8613800138000"),
]
RETURN: dict[str, Any] = {
    "store": "sh-jingan",
    "return_number": "T-1",
    "occurred_at": "2026-11-28T10:00:00+08:00",
    "receipt_number": "R-1",
    "authorised_by": "Li Na",
    "reason": "wrong size",
    "lines": [{"sku": "TEE-M", "quantity": 1, "amount": "94.00", "line_no": 1}],
    "member": {"card": "612345678901"},
    "refund_method": "cash",
}
RETURN_CHANGES: list[tuple[tuple[Any, ...], Any]] = [
    (("store",), "sh-xuhui"),
    (("return_number",), "T-2"),
    (("occurred_at",), "2026-11-28T10:01:00+08:00"),
    (("receipt_number",), "R-2"),
    (("authorised_by",), "Zhang Wei"),
    (("reason",), "changed her mind"),
    (("lines", 0, "sku"), "TEE-L"),
    (("lines", 0, "quantity"), 2),
    (("lines", 0, "amount"), "93.00"),
    (("lines", 0, "line_no"), 2),
    (("member", "card"), "612345678902"),
    (("member", "phone"), "+8613800138000"),
    (("refund_method",), "wechat"),
]


def _changed(body: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(body)
    target: Any = changed
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return changed


def _fields(schema: type, *, prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    """Every field of a body schema as a path (list items without their index)."""
    nested = {
        "lines": (schemas.SaleLineIn if schema is schemas.ReceiptIn else schemas.ReturnLineIn),
        "payments": schemas.PaymentIn,
        "member": schemas.MemberRefIn,
    }
    paths: set[tuple[str, ...]] = set()
    for name in schema.model_fields:
        if name in nested:
            paths |= _fields(nested[name], prefix=(*prefix, name))
        else:
            paths.add((*prefix, name))
    return paths


@pytest.mark.parametrize(
    ("schema", "changes"),
    [(schemas.ReceiptIn, RECEIPT_CHANGES), (schemas.TillReturnIn, RETURN_CHANGES)],
)
def test_fingerprint_cases_name_every_field_of_the_body(schema, changes):
    named = {tuple(step for step in path if not isinstance(step, int)) for path, _ in changes}

    assert named == _fields(schema)


@pytest.mark.parametrize(("path", "value"), RECEIPT_CHANGES)
def test_receipt_fingerprint_changes_when_any_field_changes(path, value):
    same = schemas.ReceiptIn.model_validate(copy.deepcopy(RECEIPT)).to_domain()
    other = schemas.ReceiptIn.model_validate(_changed(RECEIPT, path, value)).to_domain()

    assert (
        same.payload_hash() == schemas.ReceiptIn.model_validate(RECEIPT).to_domain().payload_hash()
    )
    assert other.payload_hash() != same.payload_hash()


@pytest.mark.parametrize(("path", "value"), RETURN_CHANGES)
def test_return_fingerprint_changes_when_any_field_changes(path, value):
    same = schemas.TillReturnIn.model_validate(copy.deepcopy(RETURN)).to_domain()
    other = schemas.TillReturnIn.model_validate(_changed(RETURN, path, value)).to_domain()

    assert (
        same.payload_hash()
        == schemas.TillReturnIn.model_validate(RETURN).to_domain().payload_hash()
    )
    assert other.payload_hash() != same.payload_hash()


NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
SHANGHAI = timezone(timedelta(hours=8))


@pytest.mark.parametrize(
    ("at", "problem"),
    [
        (datetime(2026, 11, 27, 18, 30, tzinfo=SHANGHAI), None),
        (datetime(2000, 1, 1, tzinfo=UTC), None),
        (NOW + timedelta(hours=23), None),  # a till's clock running fast
        (datetime(2026, 11, 27, 18, 30), "offset"),  # noqa: DTZ001 (naive on purpose)
        (datetime(1999, 12, 31, 23, 59, tzinfo=UTC), "before 2000"),
        (datetime(2000, 1, 1, 7, 59, tzinfo=SHANGHAI), "before 2000"),
        (NOW + timedelta(days=1, seconds=1), "ahead"),
        (datetime(2099, 1, 1, tzinfo=SHANGHAI), "ahead"),
        (datetime(1, 1, 1, tzinfo=SHANGHAI), "out of range"),
        (datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-8))), "out of range"),
    ],
)
def test_till_time_problem_refuses_times_no_till_can_have(at, problem):
    found = domain.till_time_problem(at, now=NOW)

    if problem is None:
        assert found is None
    else:
        assert found is not None
        assert problem in found


def _written_another_way(body: dict[str, Any], changes: dict[tuple[Any, ...], Any]) -> Any:
    changed = copy.deepcopy(body)
    for path, value in changes.items():
        changed = _changed(changed, path, value)
    return changed


# The same receipt as RECEIPT, written as another till or exporter writes it.
RECEIPT_WRITTEN_ANOTHER_WAY: list[dict[tuple[Any, ...], Any]] = [
    {("lines", 0, "unit_price"): 99},  # a JSON number
    {("lines", 0, "unit_price"): "99.0", ("lines", 0, "discount"): 10.0},
    {("payments", 1, "amount"): "168", ("payments", 0, "amount"): 20},
    {("occurred_at",): "2026-11-27T10:30:00Z"},  # the same instant in UTC
    {("occurred_at",): "2026-11-27T20:30:00.000+10:00"},
]


@pytest.mark.parametrize("changes", RECEIPT_WRITTEN_ANOTHER_WAY)
def test_receipt_fingerprint_is_the_same_however_amounts_and_the_time_are_written(changes):
    same = schemas.ReceiptIn.model_validate(RECEIPT).to_domain()
    written = schemas.ReceiptIn.model_validate(_written_another_way(RECEIPT, changes))

    assert written.to_domain().payload_hash() == same.payload_hash()
    # What the receipts recorded before hold: the body as written, so it differs.
    assert written.to_domain().payload_hash_v1() != same.payload_hash_v1()


@pytest.mark.parametrize("discount", ["0", "0.00", 0, None])
def test_receipt_fingerprint_is_the_same_with_a_discount_of_zero_or_none(discount):
    body = _changed(RECEIPT, ("lines", 0, "discount"), "0.00")
    body = _changed(body, ("payments", 1, "amount"), "178.00")
    if discount is None:
        del body["lines"][0]["discount"]
    else:
        body["lines"][0]["discount"] = discount
    with_zero = schemas.ReceiptIn.model_validate(
        _changed(body, ("lines", 0, "discount"), "0.00")
    ).to_domain()

    assert schemas.ReceiptIn.model_validate(body).to_domain().payload_hash() == (
        with_zero.payload_hash()
    )


def test_fingerprint_of_a_body_written_as_the_fingerprint_writes_it_did_not_change():
    # Rows recorded before with amounts to the cent and times in UTC keep matching.
    receipt = _changed(RECEIPT, ("occurred_at",), "2026-11-27T10:30:00+00:00")
    till_return = _changed(RETURN, ("occurred_at",), "2026-11-28T02:00:00+00:00")

    sale = schemas.ReceiptIn.model_validate(receipt).to_domain()
    returned = schemas.TillReturnIn.model_validate(till_return).to_domain()

    assert sale.payload_hash() == sale.payload_hash_v1()
    assert returned.payload_hash() == returned.payload_hash_v2()


@pytest.mark.parametrize(
    "changes",
    [
        {("lines", 0, "amount"): 94},
        {("lines", 0, "amount"): "94.0"},
        {("occurred_at",): "2026-11-28T02:00:00Z"},
    ],
)
def test_return_fingerprint_is_the_same_however_amounts_and_the_time_are_written(changes):
    same = schemas.TillReturnIn.model_validate(RETURN).to_domain()
    written = schemas.TillReturnIn.model_validate(_written_another_way(RETURN, changes))

    assert written.to_domain().payload_hash() == same.payload_hash()
    assert written.to_domain().payload_hash_v2() != same.payload_hash_v2()


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("cash", "cash"),
        ("Cash", "cash"),
        (" CASH ", "cash"),
        ("\tcash\u3000", "cash"),
        ("ＣＡＳＨ", "cash"),  # full-width, as a Chinese input method types it
        ("现金", "cash"),
        ("card", "card"),
        ("bank card", "card"),
        ("Bank_Card", "card"),
        ("UnionPay", "card"),
        ("银联", "card"),
        ("银行卡", "card"),
        ("刷卡", "card"),
        ("wechat", "wechat"),
        ("WeChat", "wechat"),
        ("WeChat Pay", "wechat"),
        ("wechat_pay", "wechat"),
        ("微信", "wechat"),
        ("微信支付", "wechat"),
        ("alipay", "alipay"),
        ("AliPay", "alipay"),
        ("支付宝", "alipay"),
        ("e-CNY", "digital_rmb"),
        ("数字人民币", "digital_rmb"),
        ("points", "points"),
        ("积分", "points"),
        ("other", "other"),
        ("其他", "other"),
    ],
)
def test_payment_method_code_reads_usual_names_in_any_case_and_spacing(written, code):
    assert domain.payment_method_code(written) == code


@pytest.mark.parametrize("written", ["", "voucher", "cash!", "现金券", "Apple Pay", "c a s h x"])
def test_payment_method_code_is_none_for_a_method_the_shop_does_not_know(written):
    assert domain.payment_method_code(written) is None


def test_every_payment_method_is_its_own_code_and_no_name_means_two():
    names = [name for names in domain._METHOD_NAMES.values() for name in names]
    keys = [domain._method_key(name) for name in (*domain.PAYMENT_METHODS, *names)]

    assert [domain.payment_method_code(code) for code in domain.PAYMENT_METHODS] == list(
        domain.PAYMENT_METHODS
    )
    assert len(set(keys)) == len(keys)


def test_the_back_office_names_exactly_the_payment_methods_of_the_domain():
    assert tuple(PaymentMethod.values) == domain.PAYMENT_METHODS


@pytest.mark.parametrize("written", ["WeChat", " wechat ", "微信支付", "WECHAT_PAY"])
def test_receipt_fingerprint_is_the_same_however_the_payment_method_is_spelt(written):
    same = schemas.ReceiptIn.model_validate(RECEIPT).to_domain()
    spelt = schemas.ReceiptIn.model_validate(_changed(RECEIPT, ("payments", 1, "method"), written))
    points = _changed(RECEIPT, ("payments", 0, "method"), "积分")

    assert spelt.to_domain().payload_hash() == same.payload_hash()
    assert schemas.ReceiptIn.model_validate(points).to_domain().payload_hash() == (
        same.payload_hash()
    )
