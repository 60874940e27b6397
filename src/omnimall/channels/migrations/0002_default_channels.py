from django.db import migrations

DEFAULT_CHANNELS = [
    ("online", "Online mall", "online"),
    ("stores", "Stores", "store"),
]


def create_channels(apps, schema_editor):
    channel_model = apps.get_model("sales_channels", "SalesChannel")
    for code, name, kind in DEFAULT_CHANNELS:
        channel_model.objects.get_or_create(code=code, defaults={"name": name, "kind": kind})


class Migration(migrations.Migration):
    dependencies = [("sales_channels", "0001_initial")]
    operations = [migrations.RunPython(create_channels, migrations.RunPython.noop)]
