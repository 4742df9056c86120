"""The database can be ahead of the workflow: a transition is committed, and the worker
dies (or stalls) before the workflow learns it. A task the database shows open must
then be decidable, not refused as closed.

Found by the worker-kill test: its users saw "409 task is no longer open" for tasks
their inbox showed open (they retried and got through, so it counts them).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity
from temporalio.client import Client

from services.config import Settings
from services.mail import Mailer
from services.workers.core.activities import TransitionActivities
from services.workers.worker import build_worker, worker_stages
from tests.factories import agreement, current_task, decide, submit
from tests.stack import Stack, running_stack
from workflows.core.activities import PERSIST_TRANSITION
from workflows.core.transition import PersistedTransition, Transition

LAG = 4.0


class LateReports(TransitionActivities):
    """Writes each transition at once but reports a review approval late, as a worker
    that dies between the commit and the report does (its retry then finds the key)."""

    @activity.defn(name=PERSIST_TRANSITION)
    async def persist_transition(self, transition: Transition) -> PersistedTransition:
        persisted = await super().persist_transition(transition)
        if transition.event_type == "review_step_approved":
            await asyncio.sleep(LAG)
        return persisted


@pytest.fixture
async def lagging_stack(
    base_settings: Settings, temporal_client: Client, engine: AsyncEngine, tokens: dict[str, str]
) -> AsyncIterator[Stack]:
    async with running_stack(base_settings, temporal_client, engine, tokens) as stack:
        await stack.stop_worker()
        mailer = Mailer(stack.settings)
        others = worker_stages(stack.sessions, stack.settings, mailer)
        stack.worker = build_worker(
            stack.client,
            stack.settings.task_queue,
            [
                LateReports(stack.sessions, mailer),
                *(stage for stage in others if not isinstance(stage, TransitionActivities)),
            ],
        )
        stack._worker_run = asyncio.create_task(stack.worker.run())
        yield stack


async def test_a_task_the_database_shows_open_can_be_decided(lagging_stack: Stack) -> None:
    stack = lagging_stack
    async with asyncio.timeout(90):
        submitted = await submit(stack)
        technical = await current_task(stack, submitted["id"])
        approval = asyncio.create_task(decide(stack, "reviewer1", technical["id"], "approve"))

        # The legal task is committed and in the reviewer's inbox before the workflow knows.
        legal = None
        while legal is None:
            assert not approval.done(), (await approval).text
            tasks = (await agreement(stack, submitted["id"]))["open_tasks"]
            legal = next((t for t in tasks if t["step_key"] == "legal"), None)
            await asyncio.sleep(0.05)
        response = await decide(stack, "reviewer2", legal["id"], "approve")
        assert (await approval).status_code == 200
        assert response.status_code == 200, response.text
