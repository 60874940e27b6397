"""Till receipts' payment methods become codes (``pos.domain.PAYMENT_METHODS``).

Receipts were stored with each payment's method as the till wrote it ("Cash", " cash ",
"现金"), so one way of paying counted as several. Each stored method becomes its code
(``domain.payment_method_code``); a method that names none becomes ``other``. The text as
written is kept beside it (``method_as_written``) whenever it differs from the code: the
receipt's stored fingerprint was taken over that text, and a till's retry of the receipt
is recognised through it (``pos.services.sales.is_same_receipt``). Reversible: the text
goes back in place of the code.
"""

from django.db import migrations

from omnimall.pos.domain import OTHER, payment_method_code

BATCH = 1000


def _coded(payments):
    changed = []
    for payment in payments:
        if not isinstance(payment, dict) or "method_as_written" in payment:
            changed.append(payment)
            continue
        written = payment.get("method")
        text = written if isinstance(written, str) else ""
        code = payment_method_code(text) or OTHER
        changed.append(
            payment if code == written else {**payment, "method": code, "method_as_written": text}
        )
    return changed


def _as_written(payments):
    changed = []
    for payment in payments:
        if isinstance(payment, dict) and "method_as_written" in payment:
            payment = dict(payment)
            payment["method"] = payment.pop("method_as_written")
        changed.append(payment)
    return changed


def _rewrite(apps, change):
    Receipt = apps.get_model("pos", "Receipt")
    rows = Receipt.objects.only("pk", "payments").order_by("pk")
    pending = []
    for receipt in rows.iterator(chunk_size=BATCH):
        payments = receipt.payments if isinstance(receipt.payments, list) else []
        new = change(payments)
        if new != payments:
            receipt.payments = new
            pending.append(receipt)
        if len(pending) >= BATCH:
            Receipt.objects.bulk_update(pending, ["payments"])
            pending = []
    if pending:
        Receipt.objects.bulk_update(pending, ["payments"])


def to_codes(apps, schema_editor):
    _rewrite(apps, _coded)


def to_written(apps, schema_editor):
    _rewrite(apps, _as_written)


class Migration(migrations.Migration):
    dependencies = [
        ("pos", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(to_codes, to_written),
    ]
