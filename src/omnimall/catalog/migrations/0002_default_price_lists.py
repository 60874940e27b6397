from django.db import migrations

PRICE_LISTS = [("online", "Online mall prices", "online"), ("stores", "Store prices", "stores")]


def create_price_lists(apps, schema_editor):
    channel_model = apps.get_model("sales_channels", "SalesChannel")
    price_list_model = apps.get_model("catalog", "PriceList")
    for code, name, channel_code in PRICE_LISTS:
        channel = channel_model.objects.get(code=channel_code)
        price_list_model.objects.get_or_create(
            code=code, defaults={"name": name, "channel": channel, "currency": channel.currency}
        )


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial"), ("sales_channels", "0002_default_channels")]
    operations = [migrations.RunPython(create_price_lists, migrations.RunPython.noop)]
