"""Measuring one read of bench/reads.py: the app's request timed (wall clock, this
process's CPU, full garbage collections), and its baseline, the bare SQL.

Capture records every statement the app sends during a measured request (SQLAlchemy's
before_cursor_execute); BareSQL replays them right after it, in the same order and
transaction shape, through a bare driver connection (asyncpg, or aiosqlite), and
explains them. Bench drives the app's HTTP clients and collects the samples per
Scenario.
"""

from __future__ import annotations

import gc
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiosqlite
import asyncpg
import httpx
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

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
