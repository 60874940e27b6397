"""Staff roles as groups (omnimall.core.roles).

On an empty database the permissions do not exist yet while migrations run (Django
creates them in post_migrate), so this migration creates them first for every app
migrated so far, with the historical models.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from omnimall.core.roles import sync_roles


def create_all_permissions(apps):
    for app_config in apps.get_app_configs():
        # Historical app configs carry no models_module, and create_permissions skips
        # such apps; the flag only needs to be truthy for the duration of the call.
        previous = getattr(app_config, "models_module", None)
        app_config.models_module = True
        try:
            create_permissions(app_config, verbosity=0, apps=apps)
        finally:
            app_config.models_module = previous


def forwards(apps, schema_editor):
    create_all_permissions(apps)
    # Later apps' permissions do not exist yet: the sync after migrate grants them.
    sync_roles(apps=apps, warn_missing=False)


def backwards(apps, schema_editor):
    from omnimall.core.roles import ROLES

    apps.get_model("auth", "Group").objects.filter(name__in=list(ROLES)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("catalog", "0002_default_price_lists"),
        ("sales_channels", "0002_default_channels"),
        ("inventory", "0001_initial"),
        ("search", "0001_initial"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
