from django.apps import AppConfig


class InventoryConfig(AppConfig):
    name = "omnimall.inventory"
    label = "inventory"
    verbose_name = "Inventory"
