from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "omnimall.core"
    label = "core"
    verbose_name = "Core: audit trail, API keys"
