from __future__ import annotations

from typing import Any

from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate


def _sync_roles_after_migrate(sender: AppConfig, **kwargs: Any) -> None:
    # post_migrate is sent once per app, in INSTALLED_APPS order, each time after Django
    # created that app's permissions; acting on the last app's signal means every
    # permission exists, so roles pick up models that later migrations add.
    # Django sends post_migrate only for apps with a models module (not the storefront).
    with_models = [config for config in apps.get_app_configs() if config.models_module]
    if sender is not with_models[-1]:
        return
    from omnimall.core.roles import sync_roles

    sync_roles()


class CoreConfig(AppConfig):
    name = "omnimall.core"
    label = "core"
    verbose_name = "Core: audit trail, API keys"

    def ready(self) -> None:
        post_migrate.connect(_sync_roles_after_migrate, dispatch_uid="omnimall.sync_roles")
