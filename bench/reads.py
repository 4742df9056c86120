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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiosqlite
import asyncpg
import httpx
from sqlalchemy import event, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.harness import fresh_database, percentile
from bench.seed import describe, seed
from services.api.app import create_app
from services.api.pagination import encode_cursor
from services.cli import migrate
from services.config import Settings
from services.demo import DEMO_USERS
from services.store import Agreement, AgreementParty
from services.store.session import create_engine
from services.temporal import connect_temporal

Statement = tuple[str, Any]


@dataclass
class Sample:
    accord: float
    bare: float
    statements: list[Statement]
    statement_times: list[float] = field(default_factory=list)
    # CPU this process spent on the request (API, ORM, and SQLite itself, not PostgreSQL):
    # well below `accord` on a request that waited, for the database or for a core.
    cpu: float = 0.0
    # Of which in a full garbage collection of the interpreter.
    gc: float = 0.0


@dataclass
class Scenario:
    name: str
    what: str
    samples: list[Sample] = field(default_factory=list)


class GcPauses:
    """Time spent in the interpreter's full (generation 2) collections."""

    def __init__(self) -> None:
        self.total = 0.0
        self._started = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.total += time.perf_counter() - self._started


GC = GcPauses()


class Capture:
    """Records the statements the app sends while `on` is set."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.on = False
        self.statements: list[Statement] = []
        event.listen(engine.sync_engine, "before_cursor_execute", self._record)

    def _record(
        self, _conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, many: bool
    ) -> None:
        if self.on:
            self.statements.append((statement, parameters))

    def start(self) -> None:
        self.statements = []
        self.on = True

    def stop(self) -> list[Statement]:
        self.on = False
        return self.statements


class BareSQL:
    """The same statements through the driver alone, on a connection of its own."""

    def __init__(self, database_url: str) -> None:
        self.url = make_url(database_url)
        self.postgres = self.url.get_backend_name() == "postgresql"
        self.pg: asyncpg.Connection | None = None
        self.sqlite: aiosqlite.Connection | None = None

    async def open(self) -> None:
        if self.postgres:
            dsn = self.url.set(drivername="postgresql").render_as_string(hide_password=False)
            self.pg = await asyncpg.connect(dsn)
        else:
            self.sqlite = await aiosqlite.connect(self.url.database or "")
            for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
                await self.sqlite.execute(f"PRAGMA {pragma}")

    async def close(self) -> None:
        if self.pg is not None:
            await self.pg.close()
        if self.sqlite is not None:
            await self.sqlite.close()

    async def _one(self, statement: str, parameters: Any) -> list[Any]:
        if self.pg is not None:
            return list(await self.pg.fetch(statement, *(parameters or ())))
        assert self.sqlite is not None
        async with self.sqlite.execute(statement, parameters or ()) as cursor:
            return list(await cursor.fetchall())

    async def replay(self, statements: list[Statement]) -> tuple[float, list[float]]:
        """Seconds for all of them, and for each; in one transaction, as the app's session."""
        times: list[float] = []
        started = time.perf_counter()
        if self.pg is not None:
            async with self.pg.transaction():
                for statement, parameters in statements:
                    at = time.perf_counter()
                    await self._one(statement, parameters)
                    times.append(time.perf_counter() - at)
        else:
            for statement, parameters in statements:
                at = time.perf_counter()
                await self._one(statement, parameters)
                times.append(time.perf_counter() - at)
        return time.perf_counter() - started, times

    async def explain(self, statement: str, parameters: Any) -> list[str]:
        if self.pg is not None:
            rows = await self.pg.fetch(
                "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + statement, *(parameters or ())
            )
            return [row[0] for row in rows]
        assert self.sqlite is not None
        async with self.sqlite.execute(
            "EXPLAIN QUERY PLAN " + statement, parameters or ()
        ) as cursor:
            rows = list(await cursor.fetchall())
        depth: dict[int, int] = {0: -1}
        lines = []
        for node, parent, _, detail in rows:
            depth[node] = depth.get(parent, -1) + 1
            lines.append("  " * depth[node] + str(detail))
        return lines


class Bench:
    def __init__(
        self,
        clients: dict[str, httpx.AsyncClient],
        capture: Capture,
        bare: BareSQL,
        rng: random.Random,
    ) -> None:
        self.clients, self.capture, self.bare, self.rng = clients, capture, bare, rng
        self.scenarios: list[Scenario] = []

    async def call(self, actor: str, url: str) -> httpx.Response:
        response = await self.clients[actor].get(url)
        if response.status_code != 200:
            raise RuntimeError(f"GET {url} as {actor}: {response.status_code} {response.text}")
        return response

    async def timed(self, scenario: Scenario, actor: str, url: str) -> httpx.Response:
        """One measured request, then its statements replayed bare."""
        self.capture.start()
        cpu, collecting = time.process_time(), GC.total
        started = time.perf_counter()
        try:
            response = await self.call(actor, url)
        finally:
            elapsed = time.perf_counter() - started
            cpu, collecting = time.process_time() - cpu, GC.total - collecting
            statements = self.capture.stop()
        bare, times = await self.bare.replay(statements)
        scenario.samples.append(Sample(elapsed, bare, statements, times, cpu, collecting))
        return response

    async def run(
        self,
        name: str,
        what: str,
        actor: str,
        url: Callable[[int], str],
        count: int,
        warmup: int = 5,
    ) -> Scenario:
        scenario = Scenario(name, what)
        for i in range(warmup):
            await self.call(actor, url(-i - 1))
        for i in range(count):
            await self.timed(scenario, actor, url(i))
        self.scenarios.append(scenario)
        return scenario

    async def walk(
        self, name: str, what: str, actor: str, queries: list[str], depth: int, count: int
    ) -> Scenario:
        """Follow next_cursor `depth` pages from the first; time the second half."""
        scenario = Scenario(name, what)
        timed_from = depth // 2
        walks = 0
        while len(scenario.samples) < count:
            query = queries[walks % len(queries)]
            walks += 1
            cursor: str | None = None
            for page in range(depth):
                url = f"/v1/agreements?{query}" + (f"&cursor={cursor}" if cursor else "")
                if page >= timed_from and len(scenario.samples) < count:
                    response = await self.timed(scenario, actor, url)
                else:
                    response = await self.call(actor, url)
                cursor = response.json()["next_cursor"]
                if cursor is None:
                    break
            if page < timed_from:  # the walk ended before its timed half: it never would
                raise SystemExit(
                    f"{name}: ?{query} has {page + 1} pages, fewer than the {timed_from + 1}"
                    f" a walk of --depth {depth} needs; seed more agreements or lower --depth"
                )
        self.scenarios.append(scenario)
        return scenario


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


async def _picks(engine: AsyncEngine, rng: random.Random) -> dict[str, Any]:
    """Random agreements, and what the filters are asked for."""
    async with engine.connect() as connection:
        rows = (
            await connection.execute(
                select(Agreement.id, Agreement.created_at).order_by(func.random()).limit(2000)
            )
        ).all()
        countries = list(
            (
                await connection.execute(
                    select(AgreementParty.country)
                    .group_by(AgreementParty.country)
                    .order_by(func.count().desc())
                    .limit(12)
                )
            ).scalars()
        )
    picked = [(agreement_id, created_at) for agreement_id, created_at in rows]
    rng.shuffle(picked)
    return {
        "ids": [agreement_id for agreement_id, _ in picked],
        "cursors": [encode_cursor(at.isoformat(), agreement_id) for agreement_id, at in picked],
        "countries": countries,
    }


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
    picks = await _picks(engine, rng)
    ids, cursors, countries = picks["ids"], picks["cursors"], picks["countries"]
    statuses = ["in_review", "ip_clearance", "in_signature", "active", "completed", "rejected"]
    kinds = ["license", "option", "research_collaboration", "material_transfer"]
    terms = ["graphene", "Helio", "vaccine", "2024-0", "zzzz-no-match"]
    n = args.requests
    bench = Bench(clients, capture, bare, rng)

    def pick(values: list[Any]) -> Callable[[int], Any]:
        return lambda i: values[i % len(values)]

    print(
        f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; "
        f"database: {backend}; {n} requests per read, one at a time, in process "
        "(httpx ASGITransport)"
    )
    try:
        one = pick(ids)
        steps: list[tuple[str, Callable[[], Awaitable[Scenario]]]] = [
            (
                "list",
                lambda: bench.run(
                    "list", "admin, newest 50, no filter", "admin", lambda i: "/v1/agreements", n
                ),
            ),
            (
                "list_status",
                lambda: bench.run(
                    "list_status",
                    f"admin, ?status= one of {statuses}",
                    "admin",
                    lambda i: f"/v1/agreements?status={statuses[i % len(statuses)]}",
                    n,
                ),
            ),
            (
                "list_kind_country",
                lambda: bench.run(
                    "list_kind_country",
                    f"admin, ?kind= {kinds} x ?country= top 12 countries",
                    "admin",
                    lambda i: (
                        f"/v1/agreements?kind={kinds[i % len(kinds)]}"
                        f"&country={countries[(i // len(kinds)) % len(countries)]}"
                    ),
                    n,
                ),
            ),
            (
                "list_officer",
                lambda: bench.run(
                    "list_officer",
                    "program officer (own agreements only)",
                    "officer",
                    lambda i: "/v1/agreements",
                    n,
                ),
            ),
            (
                "list_q",
                lambda: bench.run(
                    "list_q",
                    f"admin, free text ?q= one of {terms}",
                    "admin",
                    lambda i: f"/v1/agreements?q={terms[i % len(terms)]}",
                    n,
                ),
            ),
            (
                "list_walk",
                lambda: bench.walk(
                    "list_walk",
                    f"pages {args.depth // 2 + 1}-{args.depth} following next_cursor "
                    "(no filter / status=active / kind=license)",
                    "admin",
                    ["limit=50", "status=active", "kind=license"],
                    args.depth,
                    n,
                ),
            ),
            (
                "list_deep",
                lambda: bench.run(
                    "list_deep",
                    "the page after a random agreement (cursor anywhere in the set)",
                    "admin",
                    lambda i: f"/v1/agreements?cursor={cursors[i % len(cursors)]}",
                    n,
                ),
            ),
            (
                "detail",
                lambda: bench.run(
                    "detail",
                    "admin, a random agreement",
                    "admin",
                    lambda i: f"/v1/agreements/{one(i + 1000)}",
                    n,
                ),
            ),
            (
                "events",
                lambda: bench.run(
                    "events",
                    "admin, a random agreement's timeline",
                    "admin",
                    lambda i: f"/v1/agreements/{one(i + 1500)}/events",
                    n,
                ),
            ),
            (
                "inbox_reviewer",
                lambda: bench.run(
                    "inbox_reviewer",
                    "Rita (technical + finance review), ?assignee=me",
                    "reviewer1",
                    lambda i: "/v1/tasks?assignee=me",
                    n,
                ),
            ),
            (
                "inbox_admin",
                lambda: bench.run(
                    "inbox_admin",
                    "Ada (admin, finance review), ?assignee=me",
                    "admin",
                    lambda i: "/v1/tasks?assignee=me",
                    n,
                ),
            ),
            (
                "tasks_open_admin",
                lambda: bench.run(
                    "tasks_open_admin",
                    "Ada (admin), every open task: /v1/tasks",
                    "admin",
                    lambda i: "/v1/tasks",
                    n,
                ),
            ),
            (
                "inbox_officer",
                lambda: bench.run(
                    "inbox_officer",
                    "Olivia (officer), ?assignee=me: her report tasks",
                    "officer",
                    lambda i: "/v1/tasks?assignee=me",
                    n,
                ),
            ),
            (
                "portfolio",
                lambda: bench.run(
                    "portfolio",
                    "admin, GET /v1/reports/portfolio (JSON)",
                    "admin",
                    lambda i: "/v1/reports/portfolio",
                    args.portfolio_runs,
                    warmup=1,
                ),
            ),
        ]
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
