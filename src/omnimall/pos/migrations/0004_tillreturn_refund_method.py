from django.db import migrations, models

from omnimall.pos.domain import single_money_method


def refund_methods_from_receipts(apps, schema_editor):
    """Returns recorded before the field: refunded the way their receipt was paid, when it
    was paid one way (as new returns are when the till does not say); others stay unknown."""
    TillReturn = apps.get_model("pos", "TillReturn")
    pending = []
    returns = TillReturn.objects.filter(receipt__isnull=False, refund_method="")
    for till_return in returns.select_related("receipt").iterator(chunk_size=2000):
        method = single_money_method(till_return.receipt.payments)
        if method:
            till_return.refund_method = method
            pending.append(till_return)
        if len(pending) >= 2000:
            TillReturn.objects.bulk_update(pending, ["refund_method"])
            pending = []
    TillReturn.objects.bulk_update(pending, ["refund_method"])


class Migration(migrations.Migration):
    dependencies = [
        ("pos", "0003_till_return_time_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="tillreturn",
            name="refund_method",
            field=models.CharField(
                blank=True,
                choices=[
                    ("cash", "cash"),
                    ("card", "bank card"),
                    ("wechat", "WeChat Pay"),
                    ("alipay", "Alipay"),
                    ("digital_rmb", "digital RMB (e-CNY)"),
                    ("points", "points"),
                    ("other", "other"),
                ],
                max_length=20,
                verbose_name="refunded by",
            ),
        ),
        migrations.RunPython(refund_methods_from_receipts, migrations.RunPython.noop),
    ]
