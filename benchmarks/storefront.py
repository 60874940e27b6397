"""Storefront speed: pages and search against a bare Django view, on a real server.

    .venv/bin/python benchmarks/storefront.py --products 100000
    .venv/bin/python benchmarks/storefront.py --database-url postgresql://postgres@127.0.0.1:5432/bench_store

Migrates the benchmark database (default: a SQLite file under var/), loads the demo catalog
with ``--products`` products if it is not there, starts gunicorn on 127.0.0.1 (2 workers,
debug off), warms it up, and drives it with wrk over many product, category and search
URLs picked from the database. Progress goes to stderr; the last line of stdout is one
JSON object with the figures docs/benchmarks.md records. See that file for the targets.
"""

from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

# benchmarks/ is on sys.path when this file runs as a script.
from harness import (
    ROOT,
    Gunicorn,
    WrkResult,
    fetch,
    log,
    manage,
    report_targets,
    run_python,
    run_wrk,
    server_env,
)

COLD_MEDIAN_MS: dict[str, float] = {}

TARGETS = {  # issue 2, "Speed"
    "product_hello_ratio": (">=", 0.30),
    "category_hello_ratio": (">=", 0.20),
    "search_p95_ms": ("<=", 30),
    "worker_rss_mb": ("<=", 200),
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default="",
        help="postgresql://… for PostgreSQL (default: var/bench-storefront-N.sqlite3)",
    )
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per endpoint")
    parser.add_argument(
        "--connections",
        type=int,
        default=8,
        help="concurrent wrk connections (search always uses 8)",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--redis-url",
        default="",
        help="use this Redis as the shared cache (flushed first), as production does; "
        "default: each worker's own memory cache",
    )
    parser.add_argument(
        "--reset",
        action="store_true",
        help="empty the database first (its whole public schema on PostgreSQL)",
    )
    return parser.parse_args(argv)


def reset_database(url: str) -> None:
    if url.startswith("sqlite:"):
        path = Path(url.removeprefix("sqlite:///").removeprefix("sqlite://"))
        if not url.startswith("sqlite:////"):
            path = ROOT / path
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")


def prepare_database(env: dict[str, str], args: argparse.Namespace) -> dict[str, Any]:
    url = env["OMNIMALL_DATABASE_URL"]
    if args.reset:
        log(f"resetting {url}")
        reset_database(url)
    log("migrating")
    manage(env, "migrate", "--no-input", "-v", "0")
    sample = json.loads(run_python(env, Path(__file__).parent / "sample_catalog.py"))
    if sample["products"] == 0:
        log(f"loading the demo catalog with {args.products} products (once)")
        manage(env, "load_demo", "--products", str(args.products), "--seed", str(args.seed))
        sample = json.loads(run_python(env, Path(__file__).parent / "sample_catalog.py"))
    elif sample["products"] != args.products:
        sys.exit(
            f"{url} holds {sample['products']} products, not {args.products}: "
            "re-run with --reset to rebuild it, or pass --products "
            f"{sample['products']}"
        )
    log("collecting static files (debug is off: pages need the manifest)")
    manage(env, "collectstatic", "--no-input", "-v", "0")
    return sample


def healthy_paths(base_url: str, label: str, paths: list[str]) -> list[str]:
    """Request every path once (the cold pass, 4 at a time); keep those answering 200."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        replies = list(pool.map(lambda path: fetch(base_url, path), paths))
    statuses = [reply.status for reply in replies]
    seconds = sorted(reply.seconds for reply in replies)
    if seconds:
        # What a query nobody asked before costs (no cache can help it): reported, so
        # that the warm figures below are never mistaken for it.
        COLD_MEDIAN_MS[label] = round(seconds[len(seconds) // 2] * 1000, 1)
        log(f"{label}: cold pass median {COLD_MEDIAN_MS[label]} ms")
    good = [path for path, status in zip(paths, statuses, strict=True) if status == 200]
    bad: dict[int, list[str]] = {}
    for path, status in zip(paths, statuses, strict=True):
        if status != 200:
            bad.setdefault(status, []).append(path)
    for status, failing in sorted(bad.items()):
        log(
            f"WARNING {label}: {len(failing)} of {len(paths)} paths answer {status}, "
            f"e.g. {failing[0]} — left out of the load"
        )
    log(f"{label}: {len(good)} paths answer 200")
    return good


def measure(
    base_url: str, label: str, paths: list[str], args: argparse.Namespace, connections: int
) -> WrkResult | None:
    if not paths:
        log(f"{label}: nothing to measure")
        return None
    run_wrk(base_url, paths, seconds=min(3, args.duration), connections=connections)  # warm-up
    result = run_wrk(base_url, paths, seconds=args.duration, connections=connections)
    log(
        f"{label}: {result.ok_rps:.0f} req/s, p50 {result.p50_ms:.1f} ms, "
        f"p95 {result.p95_ms:.1f} ms, p99 {result.p99_ms:.1f} ms, errors {result.errors} "
        f"of {result.requests}"
    )
    return result


def cold_queries(base_url: str, path: str | None) -> int | None:
    """SQL queries of one request, read from its Server-Timing header (None unless 200)."""
    if path is None:
        return None
    reply = fetch(base_url, path)
    queries = reply.db_queries()
    log(f"{path}: HTTP {reply.status}, {queries} queries, {reply.seconds * 1000:.0f} ms")
    return queries if reply.status == 200 else None


def run(args: argparse.Namespace) -> dict[str, Any]:
    url = (
        args.database_url
        or f"sqlite:///{ROOT / 'var' / f'bench-storefront-{args.products}.sqlite3'}"
    )
    (ROOT / "var").mkdir(exist_ok=True)
    env = server_env(url)
    if args.redis_url:
        import redis

        redis.Redis.from_url(args.redis_url).flushdb()
        env["OMNIMALL_REDIS_URL"] = args.redis_url
    sample = prepare_database(env, args)
    server = Gunicorn(env, workers=args.workers)
    try:
        health = server.wait_ready()
        base = server.base_url
        log(
            f"gunicorn on {base} with {args.workers} workers, database {health.get('vendor')}, "
            f"{sample['products']} products"
        )
        # Query counts on a first (uncached) request: the bound the pages must hold.
        product_queries = cold_queries(base, (sample["product_paths"] or [None])[-1])
        category_queries = cold_queries(base, (sample["category_paths"] or [None])[-1])
        products_ok = healthy_paths(base, "product pages", sample["product_paths"])
        categories_ok = healthy_paths(base, "category pages", sample["category_paths"])
        search_ok = healthy_paths(base, "search API", sample["search_paths"])
        # The ceiling is measured before and after the pages, and averaged, so that a
        # passing disturbance on the machine shifts both sides of the ratios alike.
        hello_before = measure(base, "hello", ["/bench/hello"], args, args.connections)
        products = measure(base, "product pages", products_ok, args, args.connections)
        categories = measure(base, "category pages", categories_ok, args, args.connections)
        search = measure(base, "search API", search_ok, args, 8)
        hello_after = measure(base, "hello (again)", ["/bench/hello"], args, args.connections)
        memory = server.worker_memory_mb()
        rss = memory["VmRSS"]
        log(
            f"worker RSS after the load: {rss} MB (peak {memory['VmHWM']} MB; "
            f"anonymous {memory['RssAnon']} MB, mapped files {memory['RssFile']} MB)"
        )
    finally:
        server.stop()
        log("gunicorn stopped")

    hello_rps = (
        (hello_before.ok_rps + hello_after.ok_rps) / 2 if hello_before and hello_after else 0.0
    )

    def rps(result: WrkResult | None) -> float | None:
        return round(result.ok_rps, 1) if result else None

    def ratio(part: WrkResult | None) -> float | None:
        return round(part.ok_rps / hello_rps, 3) if part and hello_rps else None

    return {
        "database": health.get("vendor"),
        "cache": "redis" if args.redis_url else "per-worker memory",
        "hello_rps": round(hello_rps, 1) if hello_rps else None,
        "product_rps": rps(products),
        "category_rps": rps(categories),
        "search_p95_ms": round(search.p95_ms, 1) if search else None,
        "product_page_queries": product_queries,
        "category_page_queries": category_queries,
        "worker_rss_mb": rss,
        "product_hello_ratio": ratio(products),
        "category_hello_ratio": ratio(categories),
        "search_cold_median_ms": COLD_MEDIAN_MS.get("search API"),
    }


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    result = run(args)
    report_targets(result, TARGETS)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
