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

from tests.factories import full_review, withdraw
from tests.stack import Stack
from workflows.agreement import AgreementWorkflow

HISTORIES = Path(__file__).parent / "histories"


def _replayer() -> Replayer:
    return Replayer(workflows=[AgreementWorkflow], data_converter=pydantic_data_converter)


async def test_a_fresh_history_replays(stack: Stack) -> None:
    reviewed = await full_review(stack, "Recorded review")
    await withdraw(stack, reviewed["id"], "recorded")
    handle = stack.client.get_workflow_handle(reviewed["workflow_id"])
    assert await handle.result() == "withdrawn"
    history = await handle.fetch_history()
    if os.environ.get("ACCORD_RECORD_HISTORIES"):
        await asyncio.to_thread((HISTORIES / "full_review.json").write_text, history.to_json())
    await _replayer().replay_workflow(history)


@pytest.mark.parametrize("path", sorted(HISTORIES.glob("*.json")), ids=lambda p: p.stem)
async def test_recorded_histories_replay(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, await asyncio.to_thread(path.read_text))
    await _replayer().replay_workflow(history)
