from django.apps import AppConfig


class PosConfig(AppConfig):
    name = "omnimall.pos"
    label = "pos"
    verbose_name = "Point of sale"
