"""PostgreSQL knobs for poolers, read from the environment when the settings load."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

READ = (
    "import json; from django.conf import settings; import django; django.setup(); "
    "db = settings.DATABASES['default']; "
    "print(json.dumps([db['DISABLE_SERVER_SIDE_CURSORS'], "
    "db['OPTIONS'].get('server_side_binding', False)]))"
)


def database_settings(**env: str) -> list[bool]:
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "omnimall.settings",
        "OMNIMALL_DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/unused",
        **env,
    }
    out = subprocess.run(  # noqa: S603 (our own interpreter, a fixed program)
        [sys.executable, "-c", READ], env=environment, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, [False, True]),  # the defaults: server-side cursors and prepared statements
        ({"OMNIMALL_DB_SERVER_SIDE_CURSORS": "0"}, [True, True]),
        ({"OMNIMALL_DB_PREPARED_STATEMENTS": "0"}, [False, False]),
    ],
)
def test_a_transaction_mode_pooler_can_turn_off_what_it_cannot_keep(env, expected):
    assert database_settings(**env) == expected
