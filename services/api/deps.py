"""Per-request dependencies: a database session and the process-wide Temporal client."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client

from services.config import Settings


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    sessions: async_sessionmaker[AsyncSession] = request.app.state.sessions
    async with sessions() as session:
        try:
            yield session
            await session.commit()
        except Exception:
            await session.rollback()
            raise


def get_temporal(request: Request) -> Client:
    client: Client = request.app.state.temporal
    return client


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings
