"""Bulk-seed a migrated Accord database with agreements at scale.

    .venv/bin/python -m bench.seed [--agreements 100000] [--database-url URL]
        [--batch 2000] [--seed 1]

Without --database-url, a SQLite file in a new temporary folder is migrated and seeded;
with it, the database must be migrated and hold no agreements yet (an empty PostgreSQL
database is migrated first). The demo organisation (services.demo) is created, plus
eleven more program officers; then N agreements with their parties, about ten events
each, their tasks, votes and obligations, as the workflow would have written them:
statuses spread over the lifecycle, creation dates over five years, event seq gapless
per agreement, open review tasks assigned to the review groups (a few thousand for the
technical review board), signature tasks to the demo signatories, report tasks to the
officers. Deterministic for a given --seed.

PostgreSQL is loaded with COPY (asyncpg copy_records_to_table), other databases with
SQLAlchemy Core insert() executemany, in batches of --batch agreements, one transaction
each; the tables' secondary indexes are dropped for the load and built again after it
(on PostgreSQL, VACUUM ANALYZE follows, as autovacuum would). Prints rows per table and
the time taken.

The rows are generated in bench/seed_rows.py (the agreements and their columns),
bench/seed_lifecycle.py (each one's way through the workflow's stages) and
bench/seed_story.py (its events, tasks, votes and obligations); bench/seed_load.py
writes them and drops and rebuilds the indexes.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine
from tqdm import tqdm

from bench.seed_load import each_index, secondary_indexes, write
from bench.seed_rows import Generator
from bench.seed_story import Org
from services.api.auth import hash_token, new_token
from services.config import Settings
from services.demo import DEMO_USERS, seed_demo
from services.store import Agreement, Group, Role, User
from services.store.session import create_engine, create_session_factory

EXTRA_OFFICERS = 11


async def _organisation(engine: AsyncEngine, tokens_file: Path) -> tuple[Org, dict[str, str]]:
    sessions = create_session_factory(engine)
    async with sessions() as session:
        tokens = await seed_demo(session, tokens_file)
        by_email = {email: uid for email, uid in await session.execute(select(User.email, User.id))}
        users = {demo.key: by_email[demo.email] for demo in DEMO_USERS}
        officers = [users["officer"]]
        for n in range(1, EXTRA_OFFICERS + 1):
            email = f"officer{n:02d}@accord.test"
            existing = await session.scalar(select(User.id).where(User.email == email))
            if existing is None:
                user = User(
                    email=email,
                    name=f"Officer {n:02d}",
                    role=Role.PROGRAM_OFFICER,
                    token_hash=hash_token(new_token()),
                )
                session.add(user)
                await session.flush()
                existing = user.id
            officers.append(existing)
        groups = {slug: gid for slug, gid in await session.execute(select(Group.slug, Group.id))}
        await session.commit()
    return Org(officers=officers, groups=groups, users=users), tokens


@dataclass
class SeedResult:
    tokens: dict[str, str]
    counts: dict[str, int]
    seconds: float
    load_seconds: float = 0.0
    index_seconds: float = 0.0


async def seed(
    engine: AsyncEngine,
    agreements: int,
    tokens_file: Path,
    *,
    batch_size: int = 2000,
    rng_seed: int = 1,
    progress: bool = True,
) -> SeedResult:
    """Seed a migrated database that holds no agreements yet; returns the demo tokens.

    The tables' secondary indexes are dropped for the load and built again after it, as
    the migrations define them: building an index once is several times cheaper than
    inserting 2,400,000 rows into it one by one.
    """
    started = time.perf_counter()
    org, tokens = await _organisation(engine, tokens_file)
    async with engine.connect() as connection:
        existing = await connection.scalar(select(func.count()).select_from(Agreement))
    if existing:
        raise SystemExit(f"the database already holds {existing} agreements")
    now = datetime.now(UTC).replace(microsecond=0)
    generator = Generator(org, now, rng_seed)
    population = generator.population(agreements)
    counts: dict[str, int] = {}
    indexes = secondary_indexes()
    postgres = engine.dialect.name == "postgresql"
    async with engine.begin() as connection:
        await connection.run_sync(each_index, indexes, "drop")
    try:
        with tqdm(total=agreements, unit="agr", disable=not progress, smoothing=0.1) as bar:
            for start in range(0, agreements, batch_size):
                count = min(batch_size, agreements - start)
                batch = generator.batch(population, start, count)
                async with engine.begin() as connection:
                    if postgres:
                        await connection.execute(text("SET LOCAL synchronous_commit = off"))
                    await write(connection, batch, counts)
                bar.update(count)
                bar.set_postfix(events=counts.get("events", 0), refresh=False)
    finally:
        loaded = time.perf_counter()
        async with engine.begin() as connection:
            if postgres:
                await connection.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
            await connection.run_sync(each_index, indexes, "create")
    indexed = time.perf_counter()
    if postgres:
        # What autovacuum does after a bulk load: statistics, and the visibility map that
        # index-only scans rely on.
        async with engine.connect() as connection:
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.execute(text("VACUUM ANALYZE"))
    return SeedResult(
        tokens=tokens,
        counts=counts,
        seconds=time.perf_counter() - started,
        load_seconds=loaded - started,
        index_seconds=indexed - loaded,
    )


def describe(result: SeedResult) -> str:
    rows = sum(result.counts.values())
    parts = ", ".join(f"{name} {value:,}" for name, value in result.counts.items())
    return (
        f"seeded {rows:,} rows ({parts}) in {result.seconds:.1f}s: load "
        f"{result.load_seconds:.1f}s, indexes {result.index_seconds:.1f}s, then statistics "
        f"= {rows / result.seconds:,.0f} rows/s"
    )


async def main(args: argparse.Namespace) -> None:
    from services.cli import migrate

    workdir = Path(tempfile.mkdtemp(prefix="accord-seed-"))
    database_url = Settings(
        database_url=args.database_url or f"sqlite+aiosqlite:///{workdir / 'accord.db'}"
    ).database_url
    await asyncio.to_thread(migrate, database_url)
    engine = create_engine(database_url)
    try:
        result = await seed(
            engine,
            args.agreements,
            Path(args.tokens_file or workdir / "tokens.json"),
            batch_size=args.batch,
            rng_seed=args.seed,
        )
    finally:
        await engine.dispose()
    print(f"database: {database_url}")
    print(describe(result))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agreements", type=int, default=100_000)
    parser.add_argument("--database-url", help="a migrated or empty database (default: SQLite)")
    parser.add_argument("--batch", type=int, default=2000, help="agreements per transaction")
    parser.add_argument("--seed", type=int, default=1, help="random seed")
    parser.add_argument("--tokens-file", help="where the demo tokens go (default: temp dir)")
    asyncio.run(main(parser.parse_args()))
