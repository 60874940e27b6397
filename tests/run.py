"""`make test`: the whole suite on SQLite and, when it is configured, on PostgreSQL.

OMNIMALL_TEST_POSTGRES_URL  run the suite a second time against this PostgreSQL server.
OMNIMALL_TEST_REQUIRE_ALL=1 a missing PostgreSQL, Redis or Chromium fails the run (CI sets it).
OMNIMALL_TEST_REDIS_URL     the Redis for the cache's own tests (redis://127.0.0.1:6379/13;
                            without one answering they are skipped).
OMNIMALL_TEST_SERIAL=1      run the two passes one after the other (default: side by side,
                            which halves the wall time on a machine with two cores or more;
                            each pass's output is printed whole when it ends).

pytest's exit code 5 ("no tests collected") counts as a failure.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import IO


@dataclass
class Pass:
    label: str
    process: subprocess.Popen[bytes]
    log: IO[bytes] | None  # None: the pass writes to our stdout directly


def start_pass(label: str, extra_env: dict[str, str], args: list[str], *, quiet: bool) -> Pass:
    env = dict(os.environ, **extra_env)
    # Each pass gets its own var dir (SQLite files, mail, keys): passes may run side by side.
    base = os.environ.get("OMNIMALL_VAR_DIR") or None
    env["OMNIMALL_VAR_DIR"] = tempfile.mkdtemp(prefix=f"omnimall-test-{label}-", dir=base)
    print(f"\n=== omnimall test suite on {label}: started ===", flush=True)
    # Closed by finish_pass once the pass's output has been printed.
    log = tempfile.TemporaryFile(prefix=f"omnimall-test-{label}-") if quiet else None  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest", *args],
        env=env,
        stdout=log if log else None,
        stderr=subprocess.STDOUT if log else None,
    )
    return Pass(label, process, log)


def finish_pass(run: Pass) -> int:
    code = run.process.wait()
    if run.log is not None:
        print(f"\n=== omnimall test suite on {run.label} ===", flush=True)
        run.log.seek(0)
        sys.stdout.buffer.write(run.log.read())
        sys.stdout.flush()
        run.log.close()
    if code == 5:
        print(f"!!! {run.label}: pytest collected no tests; that is a failure", flush=True)
        return 1
    return code


def wait_all(runs: list[Pass]) -> dict[str, int]:
    """Wait for every pass, printing each one's output as soon as it ends."""
    results: dict[str, int] = {}
    started = time.monotonic()
    last_note = started
    while len(results) < len(runs):
        for run in runs:
            if run.label not in results and run.process.poll() is not None:
                results[run.label] = finish_pass(run)
        if time.monotonic() - last_note > 120 and len(results) < len(runs):
            running = [run.label for run in runs if run.label not in results]
            minutes = (time.monotonic() - started) / 60
            print(f"... still running after {minutes:.0f} min: {', '.join(running)}", flush=True)
            last_note = time.monotonic()
        time.sleep(1)
    return {run.label: results[run.label] for run in runs}


def main() -> int:
    args = sys.argv[1:]
    require_all = os.environ.get("OMNIMALL_TEST_REQUIRE_ALL") == "1"
    postgres_url = os.environ.get("OMNIMALL_TEST_POSTGRES_URL", "")
    serial = os.environ.get("OMNIMALL_TEST_SERIAL") == "1" or not postgres_url
    passes = [("SQLite", {"OMNIMALL_DATABASE_URL": ""})]
    if postgres_url:
        passes.append(("PostgreSQL", {"OMNIMALL_DATABASE_URL": postgres_url}))
    if serial:
        results = {
            label: finish_pass(start_pass(label, env, args, quiet=False)) for label, env in passes
        }
    else:
        results = wait_all([start_pass(label, env, args, quiet=True) for label, env in passes])
    if not postgres_url:
        if require_all:
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
