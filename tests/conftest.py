"""Real components only: Temporal dev server, a migrated database, SMTP on loopback.

ACCORD_TEST_DATABASE=sqlite (default) or postgresql picks the database; `make test`
runs the suite once with each.
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from services.cli import migrate
from services.config import Settings
from services.demo import DEMO_USERS, seed_demo
from services.store.session import create_engine, create_session_factory
from services.workers.clearance.screening_list import load_screening_list
from tests.stack import Mailbox, Stack, running_stack, smtp_server

BIN = Path(sys.executable).parent
POSTGRES_ADMIN_URL = os.environ.get(
    "ACCORD_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def pytest_report_header() -> str:
    return f"accord database: {os.environ.get('ACCORD_TEST_DATABASE', 'sqlite')}"


@pytest.fixture(scope="session")
async def database_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """A fresh database for this run, migrated to head by Alembic."""
    backend = os.environ.get("ACCORD_TEST_DATABASE", "sqlite")
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'accord.db'}"
        await asyncio.to_thread(migrate, url)
        yield url
        return
    if backend != "postgresql":
        raise pytest.UsageError(f"ACCORD_TEST_DATABASE must be sqlite or postgresql, not {backend}")
    name = f"accord_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        await asyncio.to_thread(migrate, url.replace("postgresql://", "postgresql+asyncpg://"))
        yield url.replace("postgresql://", "postgresql+asyncpg://")
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
async def tokens(engine: AsyncEngine, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The demo organisation; e-mail -> bearer token."""
    async with create_session_factory(engine)() as session:
        return await seed_demo(session, tmp_path_factory.mktemp("tokens") / "tokens.json")


@pytest.fixture(scope="session")
async def screening_list(engine: AsyncEngine, base_settings: Settings) -> None:
    """The shipped screening list, loaded as `accord screening load` would."""
    async with create_session_factory(engine)() as session:
        await load_screening_list(session, base_settings.screening_list_file)


@pytest.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(BIN / "temporal"),
        data_converter=pydantic_data_converter,
        dev_server_log_level="error",
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """Temporal's test server: `env.sleep(days)` skips months of timers in seconds."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(BIN / "temporal-test-server"),
        data_converter=pydantic_data_converter,
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
async def temporal_client(temporal_env: WorkflowEnvironment) -> Client:
    return temporal_env.client


@pytest.fixture(scope="session")
async def mail() -> AsyncIterator[tuple[Mailbox, int]]:
    async with smtp_server() as server:
        yield server


@pytest.fixture(scope="session")
def base_settings(database_url: str, mail: tuple[Mailbox, int]) -> Settings:
    return Settings(
        database_url=database_url,
        smtp_host="127.0.0.1",
        smtp_port=mail[1],
        update_timeout_seconds=60,
    )


@pytest.fixture(scope="session")
async def stack(
    base_settings: Settings,
    temporal_client: Client,
    engine: AsyncEngine,
    tokens: dict[str, str],
    screening_list: None,
) -> AsyncIterator[Stack]:
    """The shared running service, with the shipped review policy."""
    async with running_stack(base_settings, temporal_client, engine, tokens) as running:
        yield running


@pytest.fixture(scope="session")
async def time_skipping_stack(
    base_settings: Settings,
    time_skipping_env: WorkflowEnvironment,
    engine: AsyncEngine,
    tokens: dict[str, str],
    screening_list: None,
) -> AsyncIterator[Stack]:
    """The service on the time-skipping server. A small history limit makes
    continue-as-new happen within a short test."""
    async with running_stack(
        base_settings, time_skipping_env.client, engine, tokens, history_limit=150
    ) as running:
        yield running


@pytest.fixture
def mailbox(mail: tuple[Mailbox, int]) -> Mailbox:
    return mail[0]


@pytest.fixture(scope="session")
def demo_ids() -> dict[str, str]:
    return {u.key: u.email for u in DEMO_USERS}


# Fixtures that give a test the database under test; a test with none of them runs the
# same on either backend.
DATABASE_FIXTURES = {"database_url", "empty_database"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The PostgreSQL pass runs the tests that touch a database; the others (rendering,
    parsing, replaying recorded histories, pure rules) ran on the SQLite pass already."""
    if os.environ.get("ACCORD_TEST_DATABASE", "sqlite") == "sqlite":
        return
    once = pytest.mark.skip(reason="touches no database: runs in the SQLite pass")
    for item in items:
        if not DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(once)


# The Temporal runtime's threads can crash interpreter finalization after a green run
# (sdk-python #300). Leave with pytest's own status once everything has been reported.
@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    status = getattr(config, "_accord_exitstatus", None)
    if status is None:
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(int(status))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    session.config._accord_exitstatus = exitstatus  # type: ignore[attr-defined]
