"""Celery app. With no broker configured, tasks run inline (see settings)."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "omnimall.settings")

app = Celery("omnimall")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
