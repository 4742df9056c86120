"""A worker stopped mid-review and started again loses nothing and applies nothing twice."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from services.config import Settings
from services.store import TaskDecision
from tests.factories import current_task, decide, events, submit
from tests.stack import Stack, running_stack


@pytest.fixture
async def own_stack(
    base_settings: Settings, temporal_client: Client, engine: AsyncEngine, tokens: dict[str, str]
) -> AsyncIterator[Stack]:
    """A stack of its own: stopping its worker must not stall other tests."""
    async with running_stack(base_settings, temporal_client, engine, tokens) as stack:
        yield stack


async def test_decisions_sent_while_the_worker_is_down_apply_once_after_restart(
    own_stack: Stack,
) -> None:
    stack = own_stack
    submitted = await submit(stack)
    agreement_id = submitted["id"]
    task = await current_task(stack, agreement_id)

    await stack.stop_worker()
    # Both group members decide while no worker runs; the same reviewer also retries.
    first = asyncio.create_task(decide(stack, "reviewer1", task["id"], "approve"))
    retry = asyncio.create_task(decide(stack, "reviewer1", task["id"], "approve"))
    other = asyncio.create_task(decide(stack, "reviewer2", task["id"], "approve"))
    await asyncio.sleep(1.5)
    assert not (first.done() or retry.done() or other.done()), "answered with no worker running"

    stack.start_worker()  # a new worker: empty cache, so it replays the history first
    responses = await asyncio.gather(first, retry, other)

    statuses = sorted(r.status_code for r in responses)
    # One approval closes the single-approval step; the other two find it closed.
    assert statuses == [200, 409, 409], [r.text for r in responses]
    detail = (await stack.actor("admin").get(f"/v1/agreements/{agreement_id}")).json()
    assert [t["step_key"] for t in detail["open_tasks"]] == ["legal"]
    async with stack.sessions() as session:
        votes = await session.scalar(select(func.count()).where(TaskDecision.task_id == task["id"]))
    assert votes == 1
    timeline = await events(stack, agreement_id)
    assert [e["seq"] for e in timeline] == list(range(1, len(timeline) + 1))
    assert [e["type"] for e in timeline] == ["submitted", "review_step_approved"]


async def test_the_lifecycle_goes_on_after_a_restart(own_stack: Stack) -> None:
    stack = own_stack
    submitted = await submit(stack)
    await stack.stop_worker()
    stack.start_worker()

    task = await current_task(stack, submitted["id"])
    response = await decide(stack, "reviewer2", task["id"], "approve")
    assert response.status_code == 200, response.text
    legal = await current_task(stack, submitted["id"])
    response = await decide(stack, "reviewer2", legal["id"], "approve")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ip_clearance"
