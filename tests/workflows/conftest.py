"""Fixtures the workflow tests share."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from services.config import Settings
from tests.stack import Stack, running_stack, suggesting_continue_as_new


@pytest.fixture
async def short_history_stack(
    base_settings: Settings, engine: AsyncEngine, tokens: dict[str, str]
) -> AsyncIterator[Stack]:
    """The service on a server that suggests continue-as-new after 40 events."""
    async with (
        suggesting_continue_as_new(40) as env,
        running_stack(base_settings, env.client, engine, tokens) as stack,
    ):
        yield stack
