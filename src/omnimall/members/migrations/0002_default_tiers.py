from decimal import Decimal

from django.db import migrations

TIERS = [
    # code, English, Chinese, rank, 12-month spend from (CNY), points per CNY
    ("standard", "Standard", "普通会员", 0, Decimal("0"), Decimal("1.00")),
    ("silver", "Silver", "银卡会员", 1, Decimal("3000"), Decimal("1.25")),
    ("gold", "Gold", "金卡会员", 2, Decimal("10000"), Decimal("1.50")),
]


def create_tiers(apps, schema_editor):
    Tier = apps.get_model("members", "Tier")
    for code, en, zh, rank, spend, rate in TIERS:
        Tier.objects.get_or_create(
            code=code,
            defaults={
                "name_en": en,
                "name_zh": zh,
                "rank": rank,
                "min_spend": spend,
                "points_per_cny": rate,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("members", "0001_initial")]

    operations = [migrations.RunPython(create_tiers, migrations.RunPython.noop)]
