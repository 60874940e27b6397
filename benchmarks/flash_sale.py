"""Flash sale: many buyers racing for one SKU through ``reserve_stock``, on PostgreSQL.

    .venv/bin/python benchmarks/flash_sale.py \\
        --database-url postgresql://postgres@127.0.0.1:5432/bench_flash --units 20000 --buyers 64

Migrates the database, then (a) measures the raw ceiling: pgbench with ``--buyers`` clients
running the bare conditional ``UPDATE`` of ``reserve_stock`` on one row of a scratch copy of
the stock-level table; (b) gives a new SKU ``--units`` units at one location and lets
``--buyers`` processes (each its own connection) call ``reserve_stock(quantity=1)`` until
the units are gone, then keep buying for ``--refusal-seconds`` to prove refusals; (c) the
same on another new SKU in flash-sale mode (``--buckets`` buckets). After each run it
checks: sold == held reservations, nothing oversold, no counter out of its bounds, and the
whole stock ledger (``find_ledger_mismatches``). Progress and a CPU profile go to stderr;
the last line of stdout is one JSON object (docs/benchmarks.md records the figures).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import re
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

# benchmarks/ is on sys.path when this file runs as a script.
from harness import log, migrated_database, server_env

TARGETS = {  # issue 3, "Speed": (figure, op, limit); ratios are to raw_ceiling_per_s
    "oversold": ("==", 0),
    "ledger_ok": ("==", True),
    "reserve_ratio": (">=", 0.5),
    "flash_ratio": (">=", 1.0),
}
CEILING_TABLE = "bench_flash_ceiling"
TICKS = os.sysconf("SC_CLK_TCK")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        required=True,
        help="postgresql://…@127.0.0.1/… (created when missing, then migrated)",
    )
    parser.add_argument("--units", type=int, default=20_000)
    parser.add_argument("--buyers", type=int, default=64)
    parser.add_argument("--buckets", type=int, default=32, help="flash-sale buckets")
    parser.add_argument(
        "--processes",
        type=int,
        default=0,
        help="spread the buyers over this many processes, as threads with a connection "
        "each (default: one process per buyer)",
    )
    parser.add_argument("--pgbench-seconds", type=int, default=5)
    parser.add_argument("--refusal-seconds", type=float, default=1.0)
    parser.add_argument(
        "--max-seconds", type=float, default=300, help="stop a selling run after this long"
    )
    parser.add_argument(
        "--profile", action="store_true", help="cProfile buyer 0 of each run (to stderr)"
    )
    args = parser.parse_args(argv)
    host = urlsplit(args.database_url).hostname
    if not args.database_url.startswith("postgres") or host not in ("127.0.0.1", "localhost"):
        parser.error("--database-url must be a PostgreSQL database on 127.0.0.1")
    if args.units < 1 or args.buyers < 1:
        parser.error("--units and --buyers must be positive")
    return args


# --- (a) the raw ceiling ------------------------------------------------------------


def _pg_connection_args(url: str) -> tuple[list[str], dict[str, str], str]:
    parts = urlsplit(url)
    args = ["-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 5432)]
    if parts.username:
        args += ["-U", unquote(parts.username)]
    env = dict(os.environ)
    if parts.password:
        env["PGPASSWORD"] = unquote(parts.password)
    return args, env, parts.path.lstrip("/")


def raw_ceiling(url: str, *, clients: int, seconds: int) -> float:
    """pgbench: ``clients`` sessions running the conditional UPDATE on one row, in tps."""
    from django.db import connection

    table = connection.ops.quote_name(CEILING_TABLE)
    with connection.cursor() as cursor:
        # The stock-level table's columns, CHECK constraints and indexes, without the rows.
        cursor.execute(f"DROP TABLE IF EXISTS {table}")
        cursor.execute(f"CREATE TABLE {table} (LIKE inventory_stocklevel INCLUDING ALL)")
        columns = "id, location_id, sku_id, on_hand, reserved, safety_stock, updated_at"
        values = "1, 1, 1, 2000000000, 0, 0, now()"
        cursor.execute(f"INSERT INTO {table} ({columns}) VALUES ({values})")  # noqa: S608
    connection.close()
    # One row, always enough stock: every UPDATE succeeds, as a sale does.
    condition = "id = 1 AND on_hand >= reserved + safety_stock + 1"
    change = "reserved = reserved + 1, updated_at = now()"
    statement = f"UPDATE {CEILING_TABLE} SET {change} WHERE {condition};\n"  # noqa: S608
    conn_args, env, dbname = _pg_connection_args(url)
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as script:
        script.write(statement)
    try:
        command = ["pgbench", *conn_args, "-n", "-c", str(clients), "-j", "2"]
        command += ["-T", str(seconds), "-f", script.name, dbname]
        log("raw ceiling: " + " ".join(command))
        output = subprocess.run(command, env=env, check=True, text=True, capture_output=True).stdout
    finally:
        os.unlink(script.name)
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
    match = re.search(r"tps = ([\d.]+) \(without initial connection time\)", output)
    if not match:
        raise RuntimeError(f"no tps in pgbench output:\n{output}")
    return float(match.group(1))


# --- the SKU under test ---------------------------------------------------------------


def make_level(units: int, tag: str) -> tuple[int, int, int]:
    """A new SKU with ``units`` units at the benchmark location: (location, sku, level)."""
    from omnimall.catalog import services as catalog_services
    from omnimall.catalog.models import Brand, Category, Product, Sku
    from omnimall.core.actors import Actor
    from omnimall.inventory import services
    from omnimall.inventory.models import StockLevel, StockLocation

    actor = Actor.system("benchmark flash_sale")
    category = Category.objects.filter(slug="bench-flash").first()
    if category is None:
        category = catalog_services.create_category(
            parent=None, slug="bench-flash", name_en="Flash sale", name_zh="秒杀", actor=actor
        )
    brand = Brand.objects.filter(slug="bench-flash").first()
    if brand is None:
        brand = Brand(slug="bench-flash", name_en="Flash", name_zh="秒杀")
        catalog_services.save_audited(instance=brand, actor=actor)
    product = Product(
        slug=f"bench-flash-{tag}",
        brand=brand,
        category=category,
        name_en=f"Flash sale item {tag}",
        name_zh=f"秒杀商品 {tag}",
    )
    catalog_services.save_audited(instance=product, actor=actor)
    sku = Sku(product=product, code=f"BENCH-FLASH-{tag}")
    catalog_services.save_audited(instance=sku, actor=actor)
    location, _ = StockLocation.objects.get_or_create(
        code="bench-flash",
        defaults={"name_en": "Flash sale warehouse", "name_zh": "秒杀仓", "city": "Shanghai"},
    )
    services.receive_stock(
        location_id=location.pk, sku_id=sku.pk, quantity=units, actor=actor, reference=tag
    )
    level_id = StockLevel.objects.get(location=location, sku=sku).pk
    return location.pk, sku.pk, level_id


# --- (b), (c) buyers -------------------------------------------------------------------


@dataclass
class BuyerReport:
    index: int
    backend_pid: int
    ok: list[tuple[float, float]] = field(default_factory=list)  # (start, end) per hold
    first_attempt: float = 0.0
    refused: int = 0
    sold_after_refusal: int = 0
    errors: list[str] = field(default_factory=list)
    busy_s: float = 0.0  # wall time inside reserve_stock
    db_s: float = 0.0  # of which inside cursor.execute (round trips, server work, lock waits)
    queries: int = 0
    cpu_s: float = 0.0  # its process's CPU time over the run (on one buyer per process)
    profile: str = ""


def _buy(
    index: int,
    location_id: int,
    sku_id: int,
    go: threading.Event,
    connected: threading.Barrier,
    max_seconds: float,
    refusal_seconds: float,
    profile: bool,
) -> BuyerReport:
    """One buyer on its own connection: reserve one unit after another."""
    from django.db import connection

    from omnimall.inventory import services
    from omnimall.inventory.errors import InsufficientStockError

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        report = BuyerReport(index=index, backend_pid=cursor.fetchone()[0])

    def timed(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            report.db_s += time.perf_counter() - began
            report.queries += 1

    profiler = None
    if profile and index == 0:
        import cProfile

        profiler = cProfile.Profile()
    connected.wait()
    go.wait()
    report.first_attempt = time.perf_counter()
    stop_at = report.first_attempt + max_seconds
    first_refusal: float | None = None
    if profiler:
        profiler.enable()
    with connection.execute_wrapper(timed):
        while True:
            began = time.perf_counter()
            if began > stop_at or (
                first_refusal is not None and began - first_refusal > refusal_seconds
            ):
                break
            try:
                services.reserve_stock(
                    location_id=location_id,
                    sku_id=sku_id,
                    quantity=1,
                    owner_type="benchmark",
                    owner_id=str(index),
                )
            except InsufficientStockError:
                report.refused += 1
                if first_refusal is None:
                    first_refusal = time.perf_counter()
            except Exception as error:  # reported, never hidden: e.g. a deadlock
                report.errors.append(f"{type(error).__name__}: {error}"[:300])
                if len(report.errors) > 20:
                    break
            else:
                ended = time.perf_counter()
                report.ok.append((began, ended))
                if first_refusal is not None:
                    report.sold_after_refusal += 1
            report.busy_s += time.perf_counter() - began
    if profiler:
        import io
        import pstats

        profiler.disable()
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(25)
        report.profile = text.getvalue()
    return report


def _buyer_process(
    indexes: list[int],
    location_id: int,
    sku_id: int,
    start: Any,
    finish: Any,
    max_seconds: float,
    refusal_seconds: float,
    profile: bool,
    results: Any,
) -> None:
    """Buyers ``indexes``, one thread (and connection) each, in this process."""
    from django.db import connections

    go, counted, done = threading.Event(), threading.Event(), threading.Semaphore(0)
    connected = threading.Barrier(len(indexes) + 1)
    reports: list[BuyerReport] = []

    def run(index: int) -> None:
        try:
            try:
                reports.append(
                    _buy(
                        index,
                        location_id,
                        sku_id,
                        go,
                        connected,
                        max_seconds,
                        refusal_seconds,
                        profile,
                    )
                )
            finally:
                done.release()
            # Keep the connection (and its backend's CPU count) until the parent has counted.
            counted.wait(timeout=600)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index,)) for index in indexes]
    for thread in threads:
        thread.start()
    connected.wait()
    start.wait()  # every process connected: go
    cpu_began = time.process_time()
    go.set()
    for _ in indexes:
        done.acquire()
    if reports:  # the whole process's CPU time, on its first buyer
        reports[0].cpu_s = time.process_time() - cpu_began
    results.put(reports)
    finish.wait()
    counted.set()
    for thread in threads:
        thread.join()


def _cpu_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])  # utime + stime


def _postgres_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def _machine_ticks() -> tuple[int, int]:
    """(busy, idle) clock ticks of all CPUs since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, idle


def _percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def sell(args: argparse.Namespace, *, location_id: int, sku_id: int, label: str) -> dict[str, Any]:
    """Run the buyers against one level until its units are gone (and a little longer)."""
    from django.db import connections

    connections.close_all()  # forked children open their own connections
    context = mp.get_context("fork")
    processes_wanted = min(args.processes or args.buyers, args.buyers)
    groups = [list(range(args.buyers))[i::processes_wanted] for i in range(processes_wanted)]
    start = context.Barrier(processes_wanted + 1)
    finish = context.Barrier(processes_wanted + 1)
    results = context.Queue()
    processes = []
    for indexes in groups:
        process = context.Process(
            target=_buyer_process,
            args=(
                indexes,
                location_id,
                sku_id,
                start,
                finish,
                args.max_seconds,
                args.refusal_seconds,
                args.profile,
                results,
            ),
            daemon=True,
        )
        process.start()
        processes.append(process)
    log(f"{label}: {args.buyers} buyers ({processes_wanted} processes) selling {args.units} units")
    start.wait(timeout=120)  # every buyer connected: they start now
    pg_before = {pid: _cpu_ticks(pid) for pid in _postgres_pids()}
    machine_before = _machine_ticks()
    began = time.perf_counter()
    reports: list[BuyerReport] = list(results.get(timeout=args.max_seconds + 120))
    for _ in range(processes_wanted - 1):
        reports += results.get(timeout=120)
    elapsed = time.perf_counter() - began
    pg_after = {pid: _cpu_ticks(pid) for pid in _postgres_pids()}
    machine_after = _machine_ticks()
    finish.wait(timeout=60)
    for process in processes:
        process.join(timeout=30)

    latencies = [end - start_ for r in reports for start_, end in r.ok]
    first = min(r.first_attempt for r in reports)
    last_sale = max((end for r in reports for _, end in r.ok), default=first)
    sold = len(latencies)
    selling_s = max(last_sale - first, 1e-9)
    pg_cpu = sum(pg_after[pid] - pg_before.get(pid, 0) for pid in pg_after) / TICKS
    mine = {r.backend_pid for r in reports}
    backends_cpu = sum(pg_after.get(pid, 0) - pg_before.get(pid, 0) for pid in mine) / TICKS
    busy = (machine_after[0] - machine_before[0]) / TICKS
    idle = (machine_after[1] - machine_before[1]) / TICKS
    buyers_cpu = sum(r.cpu_s for r in reports)
    busy_s = sum(r.busy_s for r in reports)
    db_s = sum(r.db_s for r in reports)
    errors = [e for r in reports for e in r.errors]
    for line in errors[:5]:
        log(f"{label}: ERROR {line}")
    for report in reports:
        if report.profile:
            log(f"{label}: cProfile of buyer 0 (cumulative)\n{report.profile}")
    result = {
        "sold": sold,
        "refused": sum(r.refused for r in reports),
        "sold_after_refusal": sum(r.sold_after_refusal for r in reports),
        "errors": len(errors),
        "selling_s": round(selling_s, 3),
        "reserve_per_s": round(sold / selling_s, 1),
        "p50_ms": round(_percentile(latencies, 0.50) * 1000, 2),
        "p99_ms": round(_percentile(latencies, 0.99) * 1000, 2),
        "queries_per_call": round(
            sum(r.queries for r in reports) / max(sold + sum(r.refused for r in reports), 1), 2
        ),
        # Where the time goes, over the whole run (selling and refusing).
        "db_share_of_call": round(db_s / busy_s, 3) if busy_s else None,
        "cpu_s": {
            "buyers_python": round(buyers_cpu, 2),
            "postgres": round(pg_cpu, 2),  # every postgres process on the machine
            "postgres_buyer_backends": round(backends_cpu, 2),
            "machine_busy": round(busy, 2),
            "machine_idle": round(idle, 2),
        },
        "cpu_ms_per_sale": {
            "python": round(buyers_cpu / sold * 1000, 3) if sold else None,
            "postgres": round(pg_cpu / sold * 1000, 3) if sold else None,
            "postgres_buyer_backends": round(backends_cpu / sold * 1000, 3) if sold else None,
        },
        "wall_s": round(elapsed, 2),
        "processes": processes_wanted,
    }
    log(f"{label}: {json.dumps(result)}")
    return result


def check(*, level_id: int, units: int, sold: int) -> dict[str, Any]:
    """Zero oversell, counters in bounds, sold == held reservations, the ledger exact."""
    from django.db.models import F, Q

    from omnimall.inventory import selectors
    from omnimall.inventory.domain import find_ledger_mismatches
    from omnimall.inventory.models import FlashBucket, Reservation, ReservationState, StockLevel

    held = Reservation.objects.filter(level_id=level_id, state=ReservationState.HELD).count()
    out_of_bounds = (
        StockLevel.objects.filter(
            Q(on_hand__lt=0) | Q(reserved__lt=0) | Q(reserved__gt=F("on_hand"))
        ).count()
        + FlashBucket.objects.filter(remaining__lt=0).count()
    )
    mismatches = find_ledger_mismatches(selectors.iter_level_balances())
    for mismatch in mismatches[:5]:
        log(f"ledger: {mismatch.describe()}")
    return {
        "oversold": max(sold - units, 0),
        "held_matches_sold": held == sold,
        "levels_out_of_bounds": out_of_bounds,
        "ledger_ok": not mismatches and out_of_bounds == 0 and held == sold,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    env = server_env(args.database_url)
    migrated_database(args.database_url, env)
    from omnimall.core.actors import Actor
    from omnimall.inventory.services import flash

    ceiling = raw_ceiling(args.database_url, clients=args.buyers, seconds=args.pgbench_seconds)
    log(f"raw ceiling: {ceiling:.1f} conditional UPDATEs/s on one row")
    tag = time.strftime("%Y%m%d-%H%M%S")

    location_id, sku_id, level_id = make_level(args.units, f"{tag}-plain")
    plain = sell(args, location_id=location_id, sku_id=sku_id, label="reserve_stock")
    plain_check = check(level_id=level_id, units=args.units, sold=plain["sold"])
    log(f"reserve_stock: {plain_check}")

    location_id, sku_id, level_id = make_level(args.units, f"{tag}-flash")
    bucketed = flash.enable_flash_sale(
        level_id=level_id, buckets=args.buckets, actor=Actor.system("benchmark flash_sale")
    )
    log(f"flash-sale mode: {bucketed} units in {args.buckets} buckets")
    quick = sell(args, location_id=location_id, sku_id=sku_id, label="flash sale")
    quick_check = check(level_id=level_id, units=args.units, sold=quick["sold"])
    log(f"flash sale: {quick_check}")

    return {
        "raw_ceiling_per_s": round(ceiling, 1),
        "reserve_per_s": plain["reserve_per_s"],
        "flash_reserve_per_s": quick["reserve_per_s"],
        "p99_ms": plain["p99_ms"],
        "flash_p99_ms": quick["p99_ms"],
        "sold": plain["sold"],
        "flash_sold": quick["sold"],
        "oversold": plain_check["oversold"] + quick_check["oversold"],
        "ledger_ok": plain_check["ledger_ok"] and quick_check["ledger_ok"],
        "errors": plain["errors"] + quick["errors"],
        "reserve_ratio": round(plain["reserve_per_s"] / ceiling, 3) if ceiling else None,
        "flash_ratio": round(quick["reserve_per_s"] / ceiling, 3) if ceiling else None,
        "units": args.units,
        "buyers": args.buyers,
        "buckets": args.buckets,
        "processes": plain["processes"],
    }


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    result = run(args)
    for key, (op, limit) in TARGETS.items():
        value = result.get(key)
        ok = value == limit if op == "==" else value is not None and value >= limit
        log(f"target {key} {op} {limit}: {value} -> {'met' if ok else 'NOT met'}")
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
