"""`make test`: the whole suite on SQLite, then on PostgreSQL when it is configured.

OMNIMALL_TEST_POSTGRES_URL  run the suite a second time against this PostgreSQL server.
OMNIMALL_TEST_REQUIRE_ALL=1 a missing PostgreSQL or Chromium fails the run (CI sets it).

pytest's exit code 5 ("no tests collected") counts as a failure.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile


def run_pass(label: str, extra_env: dict[str, str], args: list[str]) -> int:
    env = dict(os.environ, **extra_env)
    env.setdefault("OMNIMALL_VAR_DIR", tempfile.mkdtemp(prefix="omnimall-test-var-"))
    print(f"\n=== omnimall test suite on {label} ===", flush=True)
    code = subprocess.call([sys.executable, "-m", "pytest", *args], env=env)
    if code == 5:
        print(f"!!! {label}: pytest collected no tests; that is a failure", flush=True)
        return 1
    return code


def main() -> int:
    args = sys.argv[1:]
    require_all = os.environ.get("OMNIMALL_TEST_REQUIRE_ALL") == "1"
    postgres_url = os.environ.get("OMNIMALL_TEST_POSTGRES_URL", "")
    results = {"SQLite": run_pass("SQLite", {"OMNIMALL_DATABASE_URL": ""}, args)}
    if postgres_url:
        results["PostgreSQL"] = run_pass(
            "PostgreSQL", {"OMNIMALL_DATABASE_URL": postgres_url}, args
        )
    elif require_all:
        print("!!! OMNIMALL_TEST_REQUIRE_ALL=1 but OMNIMALL_TEST_POSTGRES_URL is not set")
        results["PostgreSQL"] = 1
    else:
        print("(PostgreSQL pass skipped: set OMNIMALL_TEST_POSTGRES_URL to run it)")
    print(
        "\n=== summary: "
        + ", ".join(
            f"{db}: {'passed' if code == 0 else f'FAILED ({code})'}" for db, code in results.items()
        )
    )
    return 0 if all(code == 0 for code in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
