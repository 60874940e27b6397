"""End-of-day POS upload: a day of till receipts streamed through the batch path.

    .venv/bin/python benchmarks/pos_ingest.py \\
        --database-url postgresql://postgres@127.0.0.1:5432/bench_pos --receipts 100000

Recreates the benchmark database (PostgreSQL: DROP/CREATE DATABASE; SQLite: a new file;
``--keep`` reuses it), migrates it, loads a small demo catalog (its stores), stocks
``--skus`` SKUs at every store and enrols ``--members`` members (bulk, at the entry tier).
Then it writes two JSON-lines files of a day of receipts (3 lines each, 60% with a member —
half by card, half by phone — paid by card, WeChat, Alipay or cash): a small one
(``--small`` receipts) and the day (``--receipts``). Each is imported in a child process
(``read_sales`` → ``ingest_receipts``, exactly what ``omnimall manage import_pos_sales``
runs, without the progress bar) that reports its time and its own peak RSS, so the two
peaks show whether memory grows with the file. Afterwards both ledgers are checked:
the stock ledger (``check_stock_ledger``'s selector) and the points ledger
(``ledger_mismatches``), and every receipt must have been created.

Progress goes to stderr; the last line of stdout is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

# benchmarks/ is on sys.path when this file runs as a script.
from harness import (
    ROOT,
    log,
    migrated_database,
    report_targets,
    server_env,
    vacuum_analyze,
)

TARGETS = {"receipts_per_s": (">=", 1500.0)}
METHODS = ("card", "wechat", "alipay", "cash")
STOCK_PER_LEVEL = 100_000


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url", default="", help="postgresql://… (default: var/bench-pos.sqlite3)"
    )
    parser.add_argument("--receipts", type=int, default=100_000, help="receipts in the day")
    parser.add_argument(
        "--small", type=int, default=20_000, help="receipts in the first file (0: skip it)"
    )
    parser.add_argument("--skus", type=int, default=200, help="SKUs sold in every store")
    parser.add_argument("--members", type=int, default=50_000)
    parser.add_argument("--chunk", type=int, default=500, help="ingest window")
    parser.add_argument("--products", type=int, default=100, help="demo catalog size")
    parser.add_argument("--keep", action="store_true", help="reuse the database as it is")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--ingest", type=Path, default=None, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# --- the database -------------------------------------------------------------------------


def prepare(args: argparse.Namespace) -> dict[str, Any]:
    """Stores, stocked SKUs and members; what the receipt files may name."""
    from omnimall.catalog.models import Sku
    from omnimall.core.actors import Actor
    from omnimall.inventory.models import LocationKind, StockLocation
    from omnimall.inventory.services.imports import import_stock_counts
    from omnimall.inventory.services.stock_rows import CountRow
    from omnimall.members.models import Member, Tier

    stores = list(
        StockLocation.objects.filter(kind=LocationKind.STORE)
        .order_by("pk")
        .values_list("code", flat=True)
    )
    active = Sku.objects.filter(is_active=True).order_by("pk")
    skus = list(active.values_list("code", flat=True)[: args.skus])
    log(f"stocking {len(skus)} SKUs in {len(stores)} stores ({STOCK_PER_LEVEL} units each)")
    rows = [
        CountRow(row=i, location=store, sku=sku, count=str(STOCK_PER_LEVEL))
        for i, (store, sku) in enumerate(((s, k) for s in stores for k in skus), start=2)
    ]
    import_stock_counts(rows=rows, actor=Actor.system("pos benchmark"), source="pos benchmark")
    have = Member.objects.count()
    if have < args.members:
        log(f"enrolling {args.members - have} members (bulk)")
        tier = Tier.objects.order_by("rank").first()
        Member.objects.bulk_create(
            (
                Member(
                    phone=f"+86139{n:08d}",
                    card_number=f"9{n:011d}",
                    tier=tier,
                    name=f"Bench {n}",
                )
                for n in range(have, args.members)
            ),
            batch_size=5000,
        )
    return {"stores": stores, "skus": skus, "members": args.members}


def write_day(path: Path, count: int, *, facts: dict[str, Any], prefix: str, seed: int) -> None:
    """``count`` receipts of one day, as a till uploads them."""
    rng = random.Random(seed)
    prices = {sku: Decimal(rng.randrange(990, 29900)) / 100 for sku in facts["skus"]}
    start = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
    with path.open("w", encoding="utf-8") as handle:
        for n in range(count):
            store = facts["stores"][n % len(facts["stores"])]
            lines = []
            total = Decimal(0)
            for sku in rng.sample(facts["skus"], 3):
                quantity = rng.choice((1, 1, 1, 2))
                discount = Decimal("5.00") if rng.random() < 0.1 else Decimal(0)
                lines.append(
                    {
                        "sku": sku,
                        "quantity": quantity,
                        "unit_price": str(prices[sku]),
                        **({"discount": str(discount)} if discount else {}),
                    }
                )
                total += prices[sku] * quantity - discount
            body: dict[str, Any] = {
                "store": store,
                "receipt_number": f"{prefix}{n:07d}",
                "occurred_at": (start + timedelta(seconds=n * 43200 // count)).isoformat(),
                "lines": lines,
                "payments": [{"method": rng.choice(METHODS), "amount": str(total)}],
            }
            if rng.random() < 0.6:
                member = rng.randrange(facts["members"])
                if rng.random() < 0.5:
                    body["member"] = {"card": f"9{member:011d}"}
                else:
                    body["member"] = {"phone": f"+86139{member:08d}"}
            handle.write(json.dumps(body, separators=(",", ":")) + "\n")


# --- one import, in its own process ---------------------------------------------------------


def ingest(path: Path, chunk: int) -> dict[str, Any]:
    import django

    django.setup()
    from omnimall.core.actors import Actor
    from omnimall.pos.services.batch import ingest_receipts
    from omnimall.pos.services.reading import read_sales

    started = time.perf_counter()
    report = ingest_receipts(
        sales=read_sales(path),
        source="file",
        actor=Actor.system(f"import_pos_sales:{path.name}"),
        chunk=chunk,
        keep_results=False,
    )
    seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 2),
        "counts": report.counts(),
        "bulk": report.bulk,
        "live": report.live,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def run_child(env: dict[str, str], path: Path, chunk: int) -> dict[str, Any]:
    output = subprocess.run(
        [sys.executable, __file__, "--ingest", str(path), "--chunk", str(chunk)],
        env=env,
        cwd=ROOT,
        check=True,
        text=True,
        stdout=subprocess.PIPE,
    ).stdout
    result: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return result


def check_ledgers() -> tuple[bool, bool]:
    from omnimall.inventory.domain import find_ledger_mismatches
    from omnimall.inventory.selectors import iter_level_balances
    from omnimall.members.selectors.points import ledger_mismatches

    stock_ok = not find_ledger_mismatches(iter_level_balances())
    points_ok = not ledger_mismatches()
    return points_ok, stock_ok


def run(args: argparse.Namespace) -> dict[str, Any]:
    url = args.database_url or f"sqlite:///{ROOT / 'var' / 'bench-pos.sqlite3'}"
    (ROOT / "var").mkdir(exist_ok=True)
    env = server_env(url)
    migrated_database(
        url, env, keep=args.keep, demo=("--products", str(args.products), "--no-progress")
    )
    from django.db import connection

    facts = prepare(args)
    vacuum_analyze()
    tag = f"{int(time.time()) % 100000:05d}"
    files = []
    if args.small:
        files.append(("small", ROOT / "var" / "bench-pos-small.jsonl", args.small))
    files.append(("day", ROOT / "var" / "bench-pos-day.jsonl", args.receipts))
    runs: dict[str, dict[str, Any]] = {}
    for label, path, count in files:
        log(f"writing {count} receipts to {path.name}")
        write_day(path, count, facts=facts, prefix=f"{label[0].upper()}{tag}-", seed=args.seed)
        size_mb = path.stat().st_size / 2**20
        log(f"importing {path.name} ({size_mb:.1f} MB) in a child process")
        connection.close()
        runs[label] = run_child(env, path, args.chunk) | {"file_mb": round(size_mb, 1)}
        log(f"{label}: {runs[label]}")
    log("checking both ledgers")
    ledger_ok, stock_ok = check_ledgers()
    day = runs["day"]
    created = day["counts"]["created"] == args.receipts
    return {
        "database": connection.vendor,
        "receipts": args.receipts,
        "receipts_per_s": round(args.receipts / day["seconds"], 1),
        "seconds": day["seconds"],
        "all_created": created,
        "bulk": day["bulk"],
        "live": day["live"],
        "ledger_ok": ledger_ok,
        "stock_ledger_ok": stock_ok,
        "peak_rss_mb": day["peak_rss_mb"],
        "peak_rss_mb_small": runs["small"]["peak_rss_mb"] if "small" in runs else None,
        "small_receipts": args.small or None,
        "file_mb": day["file_mb"],
        "chunk": args.chunk,
    }


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.ingest is not None:
        print(json.dumps(ingest(args.ingest, args.chunk)), flush=True)
        return
    result = run(args)
    report_targets(result, TARGETS)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
