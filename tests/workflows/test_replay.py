"""Recorded histories replay on the current code: a change that would break running
agreements fails here, not in production. Re-record with ACCORD_RECORD_HISTORIES=1
only when a change is deliberately incompatible (and versioned with workflow.patched)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from tests.factories import clear, clearance_task, full_review, sign_all
from tests.stack import Stack
from workflows.agreement import AgreementWorkflow

HISTORIES = Path(__file__).parent / "histories"


def _replayer() -> Replayer:
    return Replayer(workflows=[AgreementWorkflow], data_converter=pydantic_data_converter)


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
    await _replayer().replay_workflow(history)


@pytest.mark.parametrize("path", sorted(HISTORIES.glob("*.json")), ids=lambda p: p.stem)
async def test_recorded_histories_replay(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, await asyncio.to_thread(path.read_text))
    await _replayer().replay_workflow(history)
