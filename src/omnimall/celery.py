"""Celery app. With no broker configured, tasks run inline (see settings)."""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "omnimall.settings")

app = Celery("omnimall")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
def _drop_stale_connections(sender: object = None, **_: object) -> None:
    """Like Django at the start of each request: a connection past ``CONN_MAX_AGE`` or
    broken is closed (the next query reconnects); a healthy one is reused. Celery itself
    keeps connections only because ``CELERY_DB_REUSE_MAX`` is set (see settings).

    Not for a task run eagerly: it runs inside its caller's transaction (as Celery's own
    Django fix-up, which also leaves eager tasks alone)."""
    if getattr(getattr(sender, "request", None), "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()
