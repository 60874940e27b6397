from django.apps import AppConfig


class MembersConfig(AppConfig):
    name = "omnimall.members"
    label = "members"
    verbose_name = "Members"
