"""``omnimall manage sync_roles``: make the staff groups match ``omnimall.core.roles``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from omnimall.core.roles import sync_roles


class Command(BaseCommand):
    help = "Create the staff role groups and give each exactly the permissions core.roles lists."

    def handle(self, *args: Any, **options: Any) -> None:
        report = sync_roles()
        for role, count in report.groups.items():
            self.stdout.write(f"{role}: {count} permissions")
        if report.missing:
            self.stderr.write("Not found (skipped): " + ", ".join(report.missing))
