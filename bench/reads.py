"""Reads at scale: list, detail, inbox, timeline and portfolio, next to their bare SQL.

    .venv/bin/python -m bench.reads [--agreements 100000] [--requests 200]
        [--database sqlite|postgresql] [--database-url URL] [--reuse]
        [--portfolio-runs 5] [--explain] [--no-gc-freeze] [--only list,detail,...]

Migrates the database (SQLite in a temporary folder unless --database-url is given),
seeds it with bench/seed.py (100,000 agreements, ~1,000,000 events) unless --reuse finds
agreements there already, then drives the real FastAPI app in this process through
httpx's ASGITransport (no socket, no server: the figures are the app's own time) as the
demo users, one request at a time, and prints p50/p99 per kind of read.

The baseline is the floor the endpoint's own SQL sets: every statement a measured
request sent (captured from SQLAlchemy's cursor events) is replayed right after it,
in the same order and transaction shape, through a bare driver connection (asyncpg, or
aiosqlite) with no HTTP, FastAPI, ORM or pydantic; its time is the database's plus the
driver's. The ratio is what the API adds on top. Comparisons with the schema before
the read indexes are runs of this script on the older revision (docs/reads-at-scale.md).

Beside each read: this process's CPU time during the request, and the requests that ran
into a full garbage collection of the interpreter (--gc-freeze freezes everything alive
before measuring, as a server could after start-up). With --explain it prints the plans
of the statements that cost most (EXPLAIN ANALYZE on PostgreSQL, EXPLAIN QUERY PLAN on
SQLite).

The reads and their random picks are in bench/reads_cases.py; the timing, the capture
of the statements and their bare replay in bench/reads_measure.py.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from bench.harness import fresh_database, percentile
from bench.reads_cases import cases, picks_from
from bench.reads_measure import BareSQL, Bench, Capture, Scenario
from bench.seed import describe, seed
from services.api.app import create_app
from services.cli import migrate
from services.config import Settings
from services.demo import DEMO_USERS
from services.store import Agreement
from services.store.session import create_engine
from services.temporal import connect_temporal


def _ms(value: float) -> str:
    return f"{value * 1000:8.1f}"


def report(scenarios: list[Scenario]) -> None:
    print(
        f"\n{'read':<22} {'n':>4} | {'Accord p50':>10} {'p99':>8} | "
        f"{'bare SQL p50':>12} {'p99':>8} | {'ratio p50':>9} {'p99':>6} | stmts | "
        f"{'CPU p50':>7} {'p99':>6} | full GC"
    )
    print("-" * 140)
    for s in scenarios:
        accord = [x.accord for x in s.samples]
        bare = [x.bare for x in s.samples]
        cpu = [x.cpu for x in s.samples]
        a50, a99 = percentile(accord, 0.5), percentile(accord, 0.99)
        b50, b99 = percentile(bare, 0.5), percentile(bare, 0.99)
        stmts = statistics.fmean(len(x.statements) for x in s.samples)
        collected = [x.gc for x in s.samples if x.gc > 0]
        print(
            f"{s.name:<22} {len(s.samples):>4} | {_ms(a50):>10} {_ms(a99):>8} | "
            f"{_ms(b50):>12} {_ms(b99):>8} | {a50 / b50:>8.2f}x {a99 / b99:>5.2f}x | "
            f"{stmts:5.1f} | {_ms(percentile(cpu, 0.5)):>7} {_ms(percentile(cpu, 0.99)):>6} | "
            f"{len(collected):>2} x, max {max(collected, default=0) * 1000:.0f}"
        )
    print(
        "(milliseconds; ratio = Accord / bare SQL of the same statements; CPU = this "
        "process's CPU time during the Accord request: API, ORM and, for SQLite, the "
        "database; full GC = requests during which the interpreter ran a full garbage "
        "collection, and the longest)"
    )
    for s in scenarios:
        print(f"  {s.name}: {s.what}")


_SPACES = re.compile(r"\s+")


async def explain(bare: BareSQL, scenarios: list[Scenario], top: int) -> None:
    """The plans of each read's costliest statements (by total bare time)."""
    for s in scenarios:
        cost: dict[str, float] = {}
        worst: dict[str, tuple[float, Any]] = {}
        for sample in s.samples:
            for (statement, parameters), seconds in zip(
                sample.statements, sample.statement_times, strict=True
            ):
                cost[statement] = cost.get(statement, 0.0) + seconds
                if seconds >= worst.get(statement, (-1.0, None))[0]:
                    worst[statement] = (seconds, parameters)
        total = sum(cost.values()) or 1.0
        ranked = sorted(cost, key=lambda k: -cost[k])
        chosen = [k for k in ranked if cost[k] / total >= 0.05][:top] or ranked[:1]
        for statement in chosen:
            seconds, parameters = worst[statement]
            print(
                f"\n=== {s.name}: {cost[statement] / total:.0%} of its bare SQL time; "
                f"slowest instance {seconds * 1000:.1f} ms"
            )
            print("SQL:", _SPACES.sub(" ", statement).strip())
            print("params:", parameters)
            for line in await bare.explain(statement, parameters):
                print("   ", line)


async def run(args: argparse.Namespace) -> None:
    if args.database == "postgresql" and not args.database_url:
        async with fresh_database("postgresql", Path(tempfile.mkdtemp())) as url:
            args.database_url = url
            await main(args)
    else:
        await main(args)


async def main(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="accord-reads-"))
    database_url = Settings(
        database_url=args.database_url or f"sqlite+aiosqlite:///{workdir / 'accord.db'}"
    ).database_url
    backend = make_url(database_url).get_backend_name()
    started = time.perf_counter()
    await asyncio.to_thread(migrate, database_url)
    print(f"migrated in {time.perf_counter() - started:.1f}s")
    engine = create_engine(database_url)
    async with engine.connect() as connection:
        existing = await connection.scalar(select(func.count()).select_from(Agreement))
    tokens_file = workdir / "tokens.json"
    if existing and args.reuse:
        from services.demo import seed_demo
        from services.store.session import create_session_factory

        async with create_session_factory(engine)() as session:
            tokens = await seed_demo(session, tokens_file)
        print(f"reusing {existing:,} agreements")
    elif existing:
        raise SystemExit(f"{existing} agreements are there already: pass --reuse")
    else:
        seeded = await seed(engine, args.agreements, tokens_file, batch_size=args.batch)
        tokens = seeded.tokens
        print(describe(seeded))
    if backend == "postgresql":
        started = time.perf_counter()
        async with engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.execute(text("ANALYZE"))
        print(f"ANALYZE in {time.perf_counter() - started:.1f}s")

    settings = Settings(database_url=database_url)
    app = create_app(settings, engine=engine, temporal=await connect_temporal(settings, lazy=True))
    transport = httpx.ASGITransport(app=app)
    clients = {
        u.key: httpx.AsyncClient(
            transport=transport,
            base_url="http://accord.bench",
            headers={"Authorization": f"Bearer {tokens[u.email]}"},
            timeout=600,
        )
        for u in DEMO_USERS
    }
    capture = Capture(engine)
    bare = BareSQL(database_url)
    await bare.open()
    rng = random.Random(args.seed)
    picks = await picks_from(engine, rng)
    n = args.requests
    bench = Bench(clients, capture, bare, rng)
    print(
        f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; "
        f"database: {backend}; {n} requests per read, one at a time, in process "
        "(httpx ASGITransport)"
    )
    try:
        steps = cases(bench, picks, args)
        if args.gc_freeze:
            # What a server can do once started: move everything alive now (modules, the
            # app, SQLAlchemy's caches) out of the collector's reach, so a full
            # collection walks only what requests allocate.
            gc.collect()
            gc.freeze()
        only = set(args.only.split(",")) if args.only else None
        for name, step in steps:
            if only is None or name in only:
                started = time.perf_counter()
                await step()
                print(
                    f"  {name} done in {time.perf_counter() - started:.1f}s "
                    f"(load average {os.getloadavg()[0]:.1f})",
                    flush=True,
                )
        report(bench.scenarios)
        if args.explain:
            await explain(bare, bench.scenarios, args.explain_top)
    finally:
        for client in clients.values():
            await client.aclose()
        await bare.close()
        await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database",
        choices=("sqlite", "postgresql"),
        default="sqlite",
        help="without --database-url: a new SQLite file, or a PostgreSQL database made for"
        " the run on ACCORD_BENCH_POSTGRES_URL's server and dropped after it",
    )
    parser.add_argument("--database-url", help="PostgreSQL or SQLite (default: a new SQLite)")
    parser.add_argument("--agreements", type=int, default=100_000, help="to seed")
    parser.add_argument("--batch", type=int, default=2000, help="agreements per seed batch")
    parser.add_argument("--reuse", action="store_true", help="read a seeded database as it is")
    parser.add_argument("--requests", type=int, default=200, help="per kind of read")
    parser.add_argument("--portfolio-runs", type=int, default=5)
    parser.add_argument("--depth", type=int, default=50, help="pages followed per walk")
    parser.add_argument("--seed", type=int, default=7, help="random seed for the picks")
    parser.add_argument("--only", help="comma-separated reads to run (default: all)")
    parser.add_argument("--explain", action="store_true", help="print the costliest plans")
    parser.add_argument(
        "--gc-freeze",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="gc.freeze() before measuring, as the API's start-up does (default: on)",
    )
    parser.add_argument("--explain-top", type=int, default=2, help="statements per read")
    asyncio.run(run(parser.parse_args()))
    sys.stdout.flush()
