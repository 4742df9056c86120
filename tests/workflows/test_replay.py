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

from tests.factories import approve_step, current_task, decide, proposal, submit
from tests.stack import Stack
from workflows.agreement import AgreementWorkflow

HISTORIES = Path(__file__).parent / "histories"


async def _full_review(stack: Stack) -> str:
    """Votes, a returned proposal, a revision, approval, then withdrawal."""
    submitted = await submit(stack, proposal(kind="defense_sharing", title="Recorded review"))
    agreement_id = submitted["id"]
    await approve_step(stack, agreement_id, "technical_dual", "reviewer1", "reviewer2")
    legal = await current_task(stack, agreement_id)
    response = await decide(stack, "reviewer2", legal["id"], "request_changes", "narrow scope")
    assert response.status_code == 200, response.text
    revised = await stack.actor("officer").post(
        f"/v1/agreements/{agreement_id}/revisions", json={"summary": "Narrowed scope."}
    )
    assert revised.status_code == 200, revised.text
    await approve_step(stack, agreement_id, "technical_dual", "reviewer2", "reviewer1")
    await approve_step(stack, agreement_id, "legal", "reviewer2")
    await approve_step(stack, agreement_id, "security", "security")
    withdrawn = await stack.actor("officer").post(
        f"/v1/agreements/{agreement_id}/withdrawal", json={"reason": "recorded"}
    )
    assert withdrawn.status_code == 200, withdrawn.text
    return str(submitted["workflow_id"])


def _replayer() -> Replayer:
    return Replayer(workflows=[AgreementWorkflow], data_converter=pydantic_data_converter)


async def test_a_fresh_history_replays(stack: Stack) -> None:
    workflow_id = await _full_review(stack)
    handle = stack.client.get_workflow_handle(workflow_id)
    assert await handle.result() == "withdrawn"
    history = await handle.fetch_history()
    if os.environ.get("ACCORD_RECORD_HISTORIES"):
        await asyncio.to_thread((HISTORIES / "full_review.json").write_text, history.to_json())
    await _replayer().replay_workflow(history)


@pytest.mark.parametrize("path", sorted(HISTORIES.glob("*.json")), ids=lambda p: p.stem)
async def test_recorded_histories_replay(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, await asyncio.to_thread(path.read_text))
    await _replayer().replay_workflow(history)
