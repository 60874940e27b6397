"""Where a purchase's CPU goes, step by step: Python and PostgreSQL, one shopper at a time.

    .venv/bin/python benchmarks/checkout_steps.py \\
        --database-url postgresql://postgres@127.0.0.1:5432/bench_checkout [--orders 60] [--sql]

The same purchase as ``benchmarks/checkout.py`` (create a cart, add 3 lines, check out for
delivery, the sandbox gateway's signed notification), but in this process through
Django's test client, one request at a time, so the figures do not depend on what else
the machine is doing: for each step, the CPU time of this thread (Python: middleware,
ORM, views) and of the PostgreSQL backend serving it (read from ``/proc``, so the
database must run on this machine), and the statements it sent. The work queued for
Celery on commit (allocation, emails, webhooks) is run right after the request that
queued it and reported as its own step. ``--sql`` prints every statement of one
purchase. The last line of stdout is one JSON object (medians in ms per step, and the
sum per order).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# benchmarks/ is on sys.path when this file runs as a script.
from checkout import prepare_database
from harness import ROOT, log, server_env

STEPS = ("create_cart", "add_line", "checkout", "notify", "post_payment")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="postgresql://… on this machine")
    parser.add_argument("--products", type=int, default=300, help="demo catalog size")
    parser.add_argument("--skus", type=int, default=60, help="SKUs bought from")
    parser.add_argument("--orders", type=int, default=60, help="purchases measured")
    parser.add_argument("--sql", action="store_true", help="print one purchase's statements")
    return parser.parse_args(argv)


def backend_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Meter:
    """CPU of this thread and of the database backend, and the statements, per step."""

    def __init__(self) -> None:
        self.python: dict[str, list[float]] = {step: [] for step in STEPS}
        self.database: dict[str, list[float]] = {step: [] for step in STEPS}
        self.queries: dict[str, list[int]] = {step: [] for step in STEPS}
        self.statements: list[tuple[str, str]] = []
        self.keep_sql = False

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        from django.db import connection

        connection.ensure_connection()
        pid = connection.connection.info.backend_pid
        statements: list[str] = []

        def record(execute: Callable[..., Any], sql: str, *args: Any) -> Any:
            statements.append(sql)
            return execute(sql, *args)

        db_before, py_before = backend_cpu_seconds(pid), time.thread_time()
        with connection.execute_wrapper(record):
            yield
        py_after = time.thread_time()
        # The backend's counters are in clock ticks (10 ms): summed over many steps, fine.
        db_after = backend_cpu_seconds(pid)
        self.python[name].append((py_after - py_before) * 1000)
        self.database[name].append((db_after - db_before) * 1000)
        self.queries[name].append(len(statements))
        if self.keep_sql:
            self.statements.extend((name, sql) for sql in statements)


Queued = list[tuple[str, dict[str, Any]]]


def run_queued(meter: Meter, queued: Queued) -> None:
    """Run what a request queued for Celery, as the worker would (tasks may queue more)."""
    from omnimall.celery import app

    with meter.step("post_payment"):
        while queued:
            name, kwargs = queued.pop(0)
            app.tasks[name].apply(kwargs=kwargs, throw=True)


def purchase(
    client: Any, codes: list[str], meter: Meter, rng: random.Random, queued: Queued
) -> None:
    from checkout import ADDRESS, CONTACT, signed_notification

    def call(step: str, method: str, path: str, **kw: Any) -> Any:
        with meter.step(step):
            reply = getattr(client, method)(path, **kw)
        if reply.status_code >= 300:
            raise RuntimeError(f"{step}: {reply.status_code} {reply.content[:300]!r}")
        if queued:
            run_queued(meter, queued)
        return reply

    token = call("create_cart", "post", "/api/v1/carts", data={}, content_type="application/json")
    token = token.json()["id"]
    for code in rng.sample(codes, 3):
        call(
            "add_line",
            "post",
            f"/api/v1/carts/{token}/lines",
            data={"sku": code, "quantity": 1},
            content_type="application/json",
        )
    placed = call(
        "checkout",
        "post",
        f"/api/v1/carts/{token}/checkout",
        data={"contact": CONTACT, "delivery_method": "ship", "address": ADDRESS, "store": None},
        content_type="application/json",
    ).json()
    form = signed_notification(placed["payment_url"])
    reply = call(  # urlencoded, as the gateway posts it (the test client's default is multipart)
        "notify",
        "post",
        "/payments/notify/sandbox/",
        data=urllib.parse.urlencode(form),
        content_type="application/x-www-form-urlencoded",
    )
    if reply.content != b"success":
        raise RuntimeError(f"notify: {reply.content[:200]!r}")


def median(values: list[float]) -> float:
    return round(statistics.median(values), 2) if values else 0.0


def run(args: argparse.Namespace) -> dict[str, Any]:
    env = server_env(args.database_url)
    env.pop("OMNIMALL_BROKER_URL", None)
    env.pop("OMNIMALL_REDIS_URL", None)
    os.environ.pop("OMNIMALL_BROKER_URL", None)  # tasks are captured, not sent
    codes = prepare_database(args.database_url, env, products=args.products, skus=args.skus)
    from django.test import Client

    from omnimall.celery import app

    app.loader.import_default_modules()  # the tasks, as a worker loads them
    queued: Queued = []

    def capture(name: str, args: Any = None, kwargs: Any = None, **_: Any) -> None:
        queued.append((name, dict(kwargs or {})))

    # As with a broker: the request only queues the work; it runs after the response.
    app.conf.task_always_eager = False
    app.send_task = capture  # type: ignore[method-assign]
    client = Client(SERVER_NAME="127.0.0.1")
    rng = random.Random(0)
    warm = Meter()
    for _ in range(5):  # first-use work: imports, caches, prepared plans
        purchase(client, codes, warm, rng, queued)
    meter = Meter()
    if args.sql:
        meter.keep_sql = True
        purchase(client, codes, meter, rng, queued)
        for step, sql in meter.statements:
            print(f"[{step}] {sql}", file=sys.stderr)
        meter = Meter()
    log(f"measuring {args.orders} purchases")
    for _ in range(args.orders):
        purchase(client, codes, meter, rng, queued)
    per_step = {
        step: {
            "python_ms": median(meter.python[step]),
            "database_ms": round(sum(meter.database[step]) / max(len(meter.database[step]), 1), 2),
            "queries": max(meter.queries[step], default=0),
            "per_order": len(meter.python[step]) // args.orders,
        }
        for step in STEPS
    }
    python_total = sum(sum(values) for values in meter.python.values()) / args.orders
    database_total = sum(sum(values) for values in meter.database.values()) / args.orders
    return {
        "orders": args.orders,
        "steps": per_step,
        "python_ms_per_order": round(python_total, 1),
        "database_ms_per_order": round(database_total, 1),
        "cpu_ms_per_order": round(python_total + database_total, 1),
    }


def main(argv: list[str] | None = None) -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    result = run(parse_args(argv))
    for step, figures in result["steps"].items():
        log(f"{step:13} {figures}")
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
