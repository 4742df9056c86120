"""An agreement keeps going across continue-as-new: state, tasks and event numbers carry."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from services.config import Settings
from tests.factories import events, full_review, withdraw
from tests.stack import Stack, running_stack


@pytest.fixture
async def short_history_stack(
    base_settings: Settings, engine: AsyncEngine, tokens: dict[str, str]
) -> AsyncIterator[Stack]:
    """A Temporal server of its own that suggests continue-as-new after 40 events."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(Path(sys.executable).parent / "temporal"),
        data_converter=pydantic_data_converter,
        dev_server_log_level="error",
        dev_server_extra_args=[
            "--dynamic-config-value",
            "limit.historyCount.suggestContinueAsNew=40",
        ],
    )
    try:
        async with running_stack(base_settings, env.client, engine, tokens) as stack:
            yield stack
    finally:
        await env.shutdown()


async def test_the_review_carries_on_across_runs(short_history_stack: Stack) -> None:
    stack = short_history_stack
    reviewed = await full_review(stack, "Long review")
    agreement_id = reviewed["id"]

    runs = [
        execution.run_id
        async for execution in stack.client.list_workflows(
            f"WorkflowId = '{reviewed['workflow_id']}'"
        )
    ]
    assert len(runs) >= 2, "the workflow never continued as new"
    timeline = await events(stack, agreement_id)
    assert [e["seq"] for e in timeline] == list(range(1, len(timeline) + 1))
    assert [e["type"] for e in timeline[-2:]] == ["review_completed", "ip_checks_completed"]
    # The latest run still takes commands, from the state the earlier runs left.
    await withdraw(stack, agreement_id)
