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
from tests.factories import approve_step, current_task, decide, events, proposal, submit
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
    submitted = await submit(stack, proposal(kind="defense_sharing", title="Long review"))
    agreement_id = submitted["id"]
    await approve_step(stack, agreement_id, "technical_dual", "reviewer1", "reviewer2")
    legal = await current_task(stack, agreement_id)
    response = await decide(stack, "reviewer2", legal["id"], "request_changes", "again")
    assert response.status_code == 200, response.text
    revised = await stack.actor("officer").post(
        f"/v1/agreements/{agreement_id}/revisions", json={"summary": "second round"}
    )
    assert revised.status_code == 200, revised.text
    await approve_step(stack, agreement_id, "technical_dual", "reviewer2", "reviewer1")
    await approve_step(stack, agreement_id, "legal", "reviewer2")
    final = await approve_step(stack, agreement_id, "security", "security")
    assert final["status"] == "ip_clearance"

    runs = [
        execution.run_id
        async for execution in stack.client.list_workflows(
            f"WorkflowId = '{submitted['workflow_id']}'"
        )
    ]
    assert len(runs) >= 2, "the workflow never continued as new"
    timeline = await events(stack, agreement_id)
    assert [e["seq"] for e in timeline] == list(range(1, len(timeline) + 1))
    assert timeline[-1]["type"] == "review_completed"
    # The latest run still takes commands, from the state the earlier runs left.
    withdrawn = await stack.actor("officer").post(
        f"/v1/agreements/{agreement_id}/withdrawal", json={"reason": "done testing"}
    )
    assert withdrawn.status_code == 200, withdrawn.text
