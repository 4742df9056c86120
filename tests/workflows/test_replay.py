"""Recorded histories replay on the current code: a change that would break running
agreements fails here, not in production. Re-record with ACCORD_RECORD_HISTORIES=1
only when a change is deliberately incompatible (and versioned with workflow.patched).
histories/README.md says how each history was recorded (test_record_histories.py)."""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from tests.factories import clear, clearance_task, full_review, sign_all
from tests.stack import Stack
from tests.workflows.replay import HISTORIES, replayer
from workflows.agreement import AgreementWorkflow
from workflows.core.state import AgreementInput
from workflows.core.transition import Change

RECORDED = sorted(HISTORIES.glob("*.json"))


async def test_a_fresh_history_replays(stack: Stack) -> None:
    """Every stage: review with a revision, clearance with conditions, two signature
    orders, activation, termination."""
    reviewed = await full_review(stack, "Recorded lifecycle")
    task = await clearance_task(stack, reviewed["id"])
    response = await clear(stack, task, "clear_with_conditions", conditions=["Recorded"])
    assert response.status_code == 200, response.text
    assert (await sign_all(stack, reviewed["id"]))["status"] == "active"
    ended = await stack.actor("admin").post(
        f"/v1/agreements/{reviewed['id']}/termination", json={"reason": "recorded"}
    )
    assert ended.status_code == 200, ended.text
    handle = stack.client.get_workflow_handle(reviewed["workflow_id"])
    assert await handle.result() == "terminated"
    history = await handle.fetch_history()
    if os.environ.get("ACCORD_RECORD_HISTORIES"):
        await asyncio.to_thread((HISTORIES / "full_lifecycle.json").write_text, history.to_json())
    await replayer().replay_workflow(history)


async def _recorded(path: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(path.stem, await asyncio.to_thread(path.read_text))


@pytest.mark.parametrize("path", RECORDED, ids=lambda p: p.stem)
async def test_recorded_histories_replay(path: Path) -> None:
    await replayer().replay_workflow(await _recorded(path))


# Not sandboxed: the sandbox re-imports the module defining the class, and this one imports
# the test stack, which the sandbox refuses (RestrictedWorkflowAccessError on urllib) before
# any replay. Nondeterminism is detected by Core, outside the sandbox, all the same.
@workflow.defn(name="Agreement", sandboxed=False)
class WaitsBeforeEveryWrite(AgreementWorkflow):
    """A refactor gone wrong: the same workflow, but it starts a timer before each
    `persist_transition`, so its commands no longer match any recorded history."""

    @workflow.run
    async def run(self, params: AgreementInput) -> str:
        return await super().run(params)

    async def _apply(self, change: Change) -> None:
        await workflow.sleep(timedelta(seconds=1))
        await super()._apply(change)


@pytest.mark.parametrize("path", RECORDED, ids=lambda p: p.stem)
async def test_a_nondeterministic_change_fails_the_replay(path: Path) -> None:
    """Every recorded history catches a change in what the workflow schedules: the
    replay fails with Temporal's nondeterminism error, not with any other error."""
    history = await _recorded(path)
    changed = Replayer(workflows=[WaitsBeforeEveryWrite], data_converter=pydantic_data_converter)
    with pytest.raises(workflow.NondeterminismError) as failure:
        await changed.replay_workflow(history)
    # Core's own words: the history has the write where the code now asks for a timer.
    assert "Nondeterminism error" in failure.value.message, failure.value
    assert "Timer" in failure.value.message, failure.value
