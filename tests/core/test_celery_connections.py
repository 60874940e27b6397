"""Celery workers keep their database connection between tasks, but never a stale one."""

from __future__ import annotations

import time

import pytest
from celery.signals import task_prerun
from django.db import connection

from omnimall.celery import app


def test_the_worker_reuses_connections_between_tasks():
    # Celery's Django fix-up closes the connection around every task unless told otherwise.
    assert app.conf.get("CELERY_DB_REUSE_MAX")


@pytest.mark.django_db(transaction=True)
def test_a_connection_past_its_age_is_closed_before_the_next_task():
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip("Django never closes an in-memory SQLite test database")
    connection.ensure_connection()
    connection.close_at = time.monotonic() - 1  # past CONN_MAX_AGE

    task_prerun.send(sender=None, task_id="t", task=None, args=(), kwargs={})

    assert connection.connection is None


@pytest.mark.django_db(transaction=True)
def test_a_healthy_connection_is_kept_for_the_next_task():
    connection.ensure_connection()
    connection.close_at = time.monotonic() + 600
    kept = connection.connection

    task_prerun.send(sender=None, task_id="t", task=None, args=(), kwargs={})

    assert connection.connection is kept


@pytest.mark.django_db
def test_a_task_run_eagerly_keeps_its_callers_transaction():
    from omnimall.inventory.tasks import release_expired_reservations_task

    connection.ensure_connection()
    kept = connection.connection

    release_expired_reservations_task.apply()

    assert connection.connection is kept
