"""An agreement keeps going across continue-as-new: state, tasks and event numbers carry."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.api.history.v1 import HistoryEvent

from services.config import Settings
from tests.factories import events, eventually, full_review, proposal, submit, withdraw
from tests.stack import Stack, running_stack, smtp_server, suggesting_continue_as_new


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


async def test_a_notice_from_a_command_that_lands_as_the_run_winds_down_is_delivered(
    base_settings: Settings, engine: AsyncEngine, tokens: dict[str, str]
) -> None:
    """The run is about to continue as new, waiting for a slow mail relay, when an admin
    terminates the agreement: the termination's notice is still sent, by the run that
    scheduled it; no run ends with an activity it scheduled left unfinished."""
    async with (
        smtp_server() as (mailbox, port),
        suggesting_continue_as_new(10) as env,
        running_stack(base_settings, env.client, engine, tokens, smtp_port=port) as stack,
    ):
        mailbox.hold("New task")
        mailbox.hold("terminated")
        submitted = await submit(stack, proposal(title=f"Slow relay {uuid.uuid4().hex[:8]}"))
        # The first reviewer's notice is held at the relay: the run waits for it.

        title = submitted["title"]

        async def held(subject_has: str) -> bool:
            return mailbox.held(subject_has) > 0

        await eventually(lambda: held("New task"), what="the reviewers' notice held")
        response = await stack.actor("admin").post(
            f"/v1/agreements/{submitted['id']}/termination", json={"reason": "slow relay"}
        )
        assert response.status_code == 200, response.text
        await eventually(lambda: held("terminated"), what="the termination notice held")
        # The run's wait for the first notice ends while the second is still on its way.
        mailbox.release("New task")
        await mailbox.wait_for(lambda m: m["Subject"].startswith("New task"))
        mailbox.release()
        await mailbox.wait_for(lambda m: "terminated" in m["Subject"] and title in m["Subject"])
        handle = stack.client.get_workflow_handle(submitted["workflow_id"])
        assert await handle.result() == "terminated"
        async for run in stack.client.list_workflows(f"WorkflowId = '{handle.id}'"):
            history = await stack.client.get_workflow_handle(
                handle.id, run_id=run.run_id
            ).fetch_history()
            from temporalio.api.enums.v1 import EventType

            print("RUN", run.run_id, [EventType.Name(e.event_type)[11:] for e in history.events])
            assert unfinished_activities(history.events) == [], run.run_id


def unfinished_activities(history: Sequence[HistoryEvent]) -> list[str]:
    """Activities a run scheduled and never saw finish."""
    scheduled = {
        e.event_id: e.activity_task_scheduled_event_attributes.activity_type.name
        for e in history
        if e.HasField("activity_task_scheduled_event_attributes")
    }
    for event in history:
        for outcome in (
            event.activity_task_completed_event_attributes,
            event.activity_task_failed_event_attributes,
            event.activity_task_timed_out_event_attributes,
            event.activity_task_canceled_event_attributes,
        ):
            scheduled.pop(outcome.scheduled_event_id, None)
    return list(scheduled.values())
