from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "omnimall.orders"
    label = "orders"
    verbose_name = "Orders"

    def ready(self) -> None:
        from omnimall.orders import handlers

        handlers.register()
