"""Every schema change is a revision: no drift between models and migrations; downgrade works."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import inspect

from services.config import ROOT
from services.store import metadata
from services.store.session import create_engine
from tests.conftest import POSTGRES_ADMIN_URL


@pytest.fixture
async def empty_database(tmp_path: Path) -> AsyncIterator[str]:
    if os.environ.get("ACCORD_TEST_DATABASE", "sqlite") == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'migrations.db'}"
        return
    name = f"accord_migrations_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace(
            "postgresql://", "postgresql+asyncpg://"
        )
        yield f"{base}/{name}"
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def _config(url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["database_url"] = url
    config.attributes["configure_logger"] = False
    return config


async def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    async with engine.connect() as connection:
        names = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
    await engine.dispose()
    return names - {"alembic_version"}


async def test_upgrade_check_downgrade_upgrade(empty_database: str) -> None:
    config = _config(empty_database)

    await asyncio.to_thread(command.upgrade, config, "head")
    assert await _tables(empty_database) == set(metadata.tables)
    # Raises when the models and the migrated schema differ.
    await asyncio.to_thread(command.check, config)

    await asyncio.to_thread(command.downgrade, config, "base")
    assert await _tables(empty_database) == set()

    await asyncio.to_thread(command.upgrade, config, "head")
    await asyncio.to_thread(command.check, config)
