"""PostgreSQL connections are health-checked by looking at the socket: a healthy idle
connection costs no SELECT 1, one the server closed is replaced before the request uses it."""

from __future__ import annotations

import time

import psycopg
import pytest
from django.core.signals import request_started
from django.db import connection
from django.db.backends.postgresql import base as django_postgresql

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgresql_only():
    if connection.vendor != "postgresql":
        pytest.skip("the PostgreSQL backend's health check")
    assert connection.settings_dict["CONN_HEALTH_CHECKS"]


@pytest.fixture
def round_trip_checks(monkeypatch) -> list[bool]:
    """Each time Django's own check (SELECT 1) runs, and what it found."""
    calls: list[bool] = []
    original = django_postgresql.DatabaseWrapper.is_usable

    def recorded(self) -> bool:
        calls.append(original(self))
        return calls[-1]

    monkeypatch.setattr(django_postgresql.DatabaseWrapper, "is_usable", recorded)
    return calls


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def _new_request() -> None:
    request_started.send(sender=None)  # as Django does before every request


def test_a_healthy_idle_connection_is_kept_without_a_round_trip(round_trip_checks):
    pid = _backend_pid()

    _new_request()

    assert _backend_pid() == pid
    assert round_trip_checks == []


def test_a_connection_the_server_closed_is_replaced_before_the_request_uses_it(
    round_trip_checks,
):
    pid = _backend_pid()
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params.pop("server_side_binding", None)
    params.pop("prepare_threshold", None)
    with psycopg.connect(**params, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])
    time.sleep(0.2)  # the server's goodbye reaches our socket

    _new_request()

    assert _backend_pid() != pid  # no error: a new connection served the request
    assert round_trip_checks == [False]  # something was waiting: Django's check ran, failed
