"""The floor under checkout's ratio: a purchase's requests with no business logic at all.

    .venv/bin/python benchmarks/checkout_floor.py \\
        --database-url postgresql://postgres@127.0.0.1:5432/bench_checkout

Issue 4's target (``orders_per_s ≥ 0.025 × hello_rps``) gives a purchase the CPU of 40
hello requests. This measures what the *shape* of a purchase costs on this machine before
any of our code runs: gunicorn (as ``checkout.py`` starts it) serves ``/bench/hello`` and
``/bench/floor`` (``floor_urls.py``: N primary-key reads and one INSERT in a transaction,
through the shop's middleware and database connection), and wrk drives each shape in
turn while ``/proc/stat`` counts the whole machine's CPU per answered request:

* ``create_cart``: one INSERT in autocommit (``POST /api/v1/carts``);
* ``add_line``: 4 statements in a transaction (× 3 per purchase);
* ``checkout``: 16 statements in a transaction;
* ``notify``: 10 statements in a transaction;
* ``worker``: the post-payment work's ~13 statements in a transaction, without HTTP
  (measured as a 13-statement request less a hello request).

``floor_cpu_ms_per_order`` is their sum, ``floor_hellos_per_order`` the same in hello
requests: what remains of the 40 for everything the purchase really does (pricing,
stock, payment, JSON, the statements' real work, the shoppers' own client). The shapes
are ``checkout.py``'s ``queries_*`` figures. Last line of stdout: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

# benchmarks/ is on sys.path when this file runs as a script.
from harness import Gunicorn, MachineCpu, log, migrated_database, run_wrk, server_env

HERE = Path(__file__).resolve().parent
TARGET_HELLOS = 1 / 0.025  # issue 4: orders_per_s ≥ 0.025 × hello_rps
# name → (path, how many of them one purchase makes)
SHAPES = {
    "hello": ("/bench/hello", 0),
    "create_cart": ("/bench/floor?atomic=0", 1),
    "add_line": ("/bench/floor?n=3", 3),
    "checkout": ("/bench/floor?n=15", 1),
    "notify": ("/bench/floor?n=9", 1),
    "worker": ("/bench/floor?n=12", 1),
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="postgresql://… on this machine")
    parser.add_argument("--rounds", type=int, default=3, help="passes over every shape")
    parser.add_argument("--seconds", type=int, default=8, help="wrk run per shape and pass")
    parser.add_argument("--connections", type=int, default=16, help="as checkout's shoppers")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    return parser.parse_args(argv)


def create_table() -> None:
    from django.db import connection
    from floor_urls import ROWS, TABLE

    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")
        cursor.execute(f"CREATE TABLE {TABLE} (id bigserial PRIMARY KEY, v integer NOT NULL)")
        cursor.execute(f"INSERT INTO {TABLE} (v) SELECT g FROM generate_series(1, {ROWS}) g")  # noqa: S608


def drop_table() -> None:
    from django.db import connection
    from floor_urls import TABLE

    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")


def cpu_ms_per_request(base_url: str, path: str, args: argparse.Namespace) -> tuple[float, float]:
    """(machine CPU ms per answered request, answers per second) of one wrk run."""
    run_wrk(base_url, [path], seconds=2, connections=args.connections)  # warm-up
    before = MachineCpu.now()
    result = run_wrk(base_url, [path], seconds=args.seconds, connections=args.connections)
    used = MachineCpu.now() - before
    answered = result.requests - result.errors
    if answered <= 0:
        raise RuntimeError(f"{path}: no successful answer")
    return 1000 * used.busy / answered, result.ok_rps


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    env = server_env(args.database_url)
    migrated_database(args.database_url, env)
    create_table()
    env["DJANGO_SETTINGS_MODULE"] = "floor_settings"
    env["PYTHONPATH"] = f"{HERE}:{env.get('PYTHONPATH', '')}".rstrip(":")
    env["GUNICORN_CMD_ARGS"] = f"--threads {args.threads}"
    server = Gunicorn(env, workers=args.workers)
    costs: dict[str, list[float]] = {name: [] for name in SHAPES}
    rates: dict[str, list[float]] = {name: [] for name in SHAPES}
    try:
        server.wait_ready()
        for round_number in range(1, args.rounds + 1):
            for name, (path, _per_order) in SHAPES.items():
                cost, rate = cpu_ms_per_request(server.base_url, path, args)
                costs[name].append(cost)
                rates[name].append(rate)
                log(f"round {round_number}: {name:12} {cost:.3f} ms CPU/request, {rate:,.0f}/s")
    finally:
        server.stop()
        drop_table()
    cpu = {name: round(statistics.median(values), 3) for name, values in costs.items()}
    hello = cpu["hello"]
    per_order = {
        name: (cpu[name] - hello if name == "worker" else cpu[name]) * count
        for name, (_path, count) in SHAPES.items()
        if count
    }
    floor = sum(per_order.values())
    result = {
        "database": "postgresql",
        "cpu_ms_per_request": cpu,
        "requests_per_s": {name: round(statistics.median(v), 1) for name, v in rates.items()},
        "floor_cpu_ms_per_order": round(floor, 2),
        "floor_hellos_per_order": round(floor / hello, 1),
        "target_hellos_per_order": TARGET_HELLOS,
        "left_for_the_purchase_hellos": round(TARGET_HELLOS - floor / hello, 1),
        "left_for_the_purchase_cpu_ms": round(TARGET_HELLOS * hello - floor, 2),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
