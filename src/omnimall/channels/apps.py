from django.apps import AppConfig


class ChannelsConfig(AppConfig):
    name = "omnimall.channels"
    # Never clash with the Django Channels package (STYLE.md §1).
    label = "sales_channels"
    verbose_name = "Sales channels"
