"""Benchmark plumbing: run omnimall commands, a gunicorn server, wrk, and read worker memory."""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omnimall.cli import gunicorn_argv

ROOT = Path(__file__).resolve().parent.parent
LUA_SCRIPT = Path(__file__).resolve().parent / "rotate.lua"
SERVER_TIMING_QUERIES = re.compile(r'db;desc="queries=(\d+)"')
SERVER_TIMING_CPU = re.compile(r"cpu;dur=([0-9.]+)")


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def report_targets(result: dict[str, Any], targets: dict[str, tuple[str, float]]) -> None:
    """Log each target (``{figure: (">=" or "<=", limit)}``) as met or not."""
    for key, (op, limit) in targets.items():
        value = result.get(key)
        ok = value is not None and (value >= limit if op == ">=" else value <= limit)
        log(f"target {key} {op} {limit}: {value} -> {'met' if ok else 'NOT met'}")


def recreate_database(url: str, *, keep: bool = False) -> None:
    """A fresh benchmark database: PostgreSQL DROP/CREATE, SQLite a new file.

    ``keep``: reuse it when it exists (only created when missing).
    """
    if url.startswith("sqlite"):
        if not keep:
            path = Path(url.removeprefix("sqlite:///"))
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and keep:
            return
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def migrated_database(
    url: str, env: dict[str, str], *, keep: bool = True, demo: tuple[str, ...] | None = None
) -> None:
    """The benchmark database ready in this process: created (dropped first unless
    ``keep``; a first run on a new machine creates it), migrated, Django set up on it, and
    with ``demo`` (``load_demo``'s arguments) the demo catalog loaded once.

    Django sets the process's ``TZ`` to the site's zone; it is put back, so ``log``'s
    clock stays the machine's."""
    if not keep:
        log(f"recreating {url.rpartition('/')[2]}")
    recreate_database(url, keep=keep)
    log("migrating")
    manage(env, "migrate", "--no-input", "-v", "0")
    os.environ.update(env)
    import django

    tz = os.environ.get("TZ")
    django.setup()
    if tz is None:
        os.environ.pop("TZ", None)
        time.tzset()
    if demo is not None:
        from omnimall.catalog.models import Product

        if not Product.objects.exists():
            log(f"loading the demo catalog ({' '.join(demo)}), once")
            manage(env, "load_demo", *demo)


def vacuum_analyze() -> None:
    """``VACUUM ANALYZE`` the benchmark database (PostgreSQL; call after ``django.setup()``).

    The server on the benchmark machines runs without autovacuum; production's would have
    cleared dead rows and analysed the tables that earlier runs and bulk loads wrote.
    """
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


def server_env(database_url: str) -> dict[str, str]:
    """The environment of every child: production-like settings on the benchmark database."""
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "omnimall.settings",
            "OMNIMALL_DATABASE_URL": database_url,
            "OMNIMALL_VAR_DIR": str(ROOT / "var"),
            "OMNIMALL_DEBUG": "0",
            # A throwaway key: the benchmark never issues anything that outlives it.
            "OMNIMALL_SECRET_KEY": secrets.token_urlsafe(48),
            "OMNIMALL_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "OMNIMALL_LOG_LEVEL": "WARNING",
        }
    )
    return env


def manage(env: dict[str, str], *args: str, capture: bool = False) -> str:
    """``omnimall manage …`` in a child process; its progress bars go to our stderr."""
    command = [sys.executable, "-m", "omnimall.cli", "manage", *args]
    result = subprocess.run(
        command,
        env=env,
        cwd=ROOT,
        check=True,
        text=True,
        stdout=subprocess.PIPE if capture else sys.stderr,
    )
    return result.stdout if capture else ""


def run_python(env: dict[str, str], script: Path, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, str(script), *args],
        env=env,
        cwd=ROOT,
        check=True,
        text=True,
        stdout=subprocess.PIPE,
    )
    return result.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float

    def db_queries(self) -> int | None:
        match = SERVER_TIMING_QUERIES.search(self.headers.get("server-timing", ""))
        return int(match.group(1)) if match else None

    def cpu_ms(self) -> float | None:
        """The request thread's CPU time on the server (``cpu`` in ``Server-Timing``)."""
        match = SERVER_TIMING_CPU.search(self.headers.get("server-timing", ""))
        return float(match.group(1)) if match else None


def fetch(base_url: str, path: str, timeout: float = 60) -> Response:
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(base_url + path, timeout=timeout) as reply:
            body = reply.read()
            status, headers = reply.status, reply.headers
    except urllib.error.HTTPError as error:
        body, status, headers = error.read(), error.code, error.headers
    return Response(
        status, {k.lower(): v for k, v in headers.items()}, body, time.perf_counter() - started
    )


class Gunicorn:
    """gunicorn started directly (not ``omnimall serve``: the benchmark database may hold
    the demo admin account, which ``serve`` rightly refuses)."""

    def __init__(self, env: dict[str, str], workers: int = 2) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            # The production command line `omnimall serve` runs, with a longer timeout.
            [
                *gunicorn_argv(bind=f"127.0.0.1:{self.port}", workers=workers),
                "--timeout",
                "120",
                # No recycling mid-run: a worker restarting (imports, dictionary warm-up)
                # would be measured as the application's speed.
                "--max-requests",
                "0",
                "--log-level",
                "warning",
            ],
            env=env,
            cwd=ROOT,
            stdout=sys.stderr,
            stderr=sys.stderr,
        )

    def wait_ready(self, timeout: float = 60) -> dict[str, object]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with code {self.process.returncode}")
            try:
                reply = fetch(self.base_url, "/healthz", timeout=5)
                if reply.status == 200:
                    return json.loads(reply.body)
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError("gunicorn did not answer /healthz in time")

    def worker_pids(self) -> list[int]:
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # The ppid is the second field after the parenthesised command name.
            if int(stat.rsplit(")", 1)[1].split()[1]) == self.process.pid:
                pids.append(int(entry.name))
        return sorted(pids)

    def worker_memory_mb(self) -> dict[str, float]:
        """Largest VmRSS, VmHWM (peak), RssAnon and RssFile over the workers, in MB.

        RssFile counts file pages mapped into the process, such as SQLite's mmap of the
        database file: shared with the OS page cache, not memory the worker owns.
        """
        largest = dict.fromkeys(("VmRSS", "VmHWM", "RssAnon", "RssFile"), 0.0)
        for pid in self.worker_pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
            for key in largest:
                if key in fields:
                    value = int(fields[key].split()[0]) / 1024
                    largest[key] = round(max(largest[key], value), 1)
        return largest

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)  # graceful: the master stops its workers
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


def cpu_seconds() -> dict[str, float]:
    """CPU seconds (user + system) used so far by each kind of process on this machine:
    ``gunicorn``, ``celery``, ``postgres`` (all backends), ``benchmark`` (this process).
    Take it before and after a phase and subtract: processes that exit in between are lost.
    """
    tick = os.sysconf("SC_CLK_TCK")
    totals = dict.fromkeys(("gunicorn", "celery", "postgres", "benchmark"), 0.0)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            argv = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat.rsplit(")", 1)[1].split()
        seconds = (int(fields[11]) + int(fields[12])) / tick  # utime, stime
        if int(entry.name) == os.getpid():
            kind = "benchmark"
        elif comm == "postgres" or argv.startswith("postgres"):
            kind = "postgres"
        elif "gunicorn" in argv:
            kind = "gunicorn"
        elif "celery" in argv:
            kind = "celery"
        else:
            continue
        totals[kind] += seconds
    return totals


@dataclass(frozen=True)
class MachineCpu:
    """The whole machine's CPU seconds so far (``/proc/stat``): ``busy`` is time spent
    running anything (user, nice, system, irq, softirq) on every core; ``stolen`` is time
    the hypervisor gave this machine's cores to other guests. Subtract two readings."""

    busy: float
    stolen: float

    @classmethod
    def now(cls) -> MachineCpu:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
        tick = os.sysconf("SC_CLK_TCK")
        return cls((user + nice + system + irq + softirq) / tick, steal / tick)

    def __sub__(self, other: MachineCpu) -> MachineCpu:
        return MachineCpu(self.busy - other.busy, self.stolen - other.stolen)


@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    errors: int  # socket errors, timeouts and non-2xx/3xx answers
    p50_ms: float
    p95_ms: float
    p99_ms: float

    @property
    def ok_rps(self) -> float:
        """Successful answers per second: errors do not count as throughput."""
        return max(self.requests - self.errors, 0) / self.seconds if self.seconds else 0.0


def run_wrk(
    base_url: str, paths: list[str], *, seconds: int, connections: int, threads: int = 2
) -> WrkResult:
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
        handle.write("\n".join(paths) + "\n")
        paths_file = handle.name
    try:
        output = subprocess.run(
            [
                "wrk",
                f"-t{threads}",
                f"-c{connections}",
                f"-d{seconds}s",
                "--timeout",
                "10s",
                "-s",
                str(LUA_SCRIPT),
                base_url,
                "--",
                paths_file,
            ],
            check=True,
            text=True,
            capture_output=True,
        ).stdout
    finally:
        os.unlink(paths_file)
    line = next(ln for ln in output.splitlines() if ln.startswith("WRK_RESULT "))
    data = json.loads(line.removeprefix("WRK_RESULT "))
    errors = sum(
        data[k]
        for k in ("connect_errors", "read_errors", "write_errors", "status_errors", "timeouts")
    )
    return WrkResult(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        errors=errors,
        p50_ms=data["p50_us"] / 1000,
        p95_ms=data["p95_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
    )
