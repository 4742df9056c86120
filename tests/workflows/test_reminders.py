"""Reminders and escalations fire from workflow timers and arrive by e-mail over SMTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from services.config import Settings
from services.store import Notification
from tests.factories import current_task, decide, events, proposal, submit
from tests.stack import Mailbox, Stack, running_stack

# Seconds, not days: a 4-second SLA, a reminder at half of it, another at the due date,
# and an escalation 2 seconds after. The technical group has a lead; finance has none.
SHORT_POLICY = """
version: test-short-sla
steps:
  - {key: technical, name: Technical review, group: technical-review, sla_hours: 0.0011,
     when: {not_kinds: [option]}}
  - {key: finance, name: Finance review, group: finance-review, sla_hours: 0.0011,
     when: {kinds: [option]}}
"""


@pytest.fixture
async def fast_stack(
    base_settings: Settings,
    temporal_client: Client,
    engine: AsyncEngine,
    tokens: dict[str, str],
    tmp_path: Path,
) -> AsyncIterator[Stack]:
    policy = tmp_path / "policy.yaml"
    policy.write_text(SHORT_POLICY)
    async with running_stack(
        base_settings,
        temporal_client,
        engine,
        tokens,
        review_policy_file=policy,
        reminder_share=0.5,
        escalation_grace_seconds=2,
    ) as stack:
        yield stack


def _about(title: str, subject: str):
    return lambda m: title in m["Subject"] and m["Subject"].startswith(subject)


async def test_reminders_then_escalation_to_the_group_lead(
    fast_stack: Stack, mailbox: Mailbox
) -> None:
    stack = fast_stack
    submitted = await submit(stack)
    title = submitted["title"]

    assigned = await mailbox.wait_for(_about(title, "New task"), count=2)
    assert {m["To"] for m in assigned} == {"rita.reviewer@accord.test", "ravi.reviewer@accord.test"}
    # Two reminders (half the SLA, and due now), each to both group members.
    reminders = await mailbox.wait_for(_about(title, "Reminder"), count=4)
    escalated = await mailbox.wait_for(_about(title, "Overdue"))
    # Rita leads the technical review group.
    assert [m["To"] for m in escalated] == ["rita.reviewer@accord.test"]
    # The link opens the task in the web app, not the JSON API.
    assert f"{stack.settings.public_url}/tasks/" in escalated[0].get_content()
    assert "/v1/" not in escalated[0].get_content()

    assert len(reminders) == 4
    assert sum("is due now" in m["Subject"] for m in reminders) == 2

    task = await current_task(stack, submitted["id"])
    assert task["overdue"] is True
    timeline = await events(stack, submitted["id"])
    assert [e["type"] for e in timeline] == ["submitted", "reminder", "reminder", "escalation"]
    assert [e["data"]["reminder"] for e in timeline[1:3]] == ["reminder", "due"]

    async with stack.sessions() as session:
        statuses = set(
            await session.scalars(
                select(Notification.status).where(Notification.agreement_id == submitted["id"])
            )
        )
    assert statuses == {"sent"}


async def test_escalation_goes_to_admins_when_the_group_has_no_lead(
    fast_stack: Stack, mailbox: Mailbox
) -> None:
    submitted = await submit(fast_stack, proposal(kind="option"))
    escalated = await mailbox.wait_for(_about(submitted["title"], "Overdue"))
    assert [m["To"] for m in escalated] == ["ada.admin@accord.test"]


async def test_a_decided_task_gets_no_more_reminders(fast_stack: Stack, mailbox: Mailbox) -> None:
    stack = fast_stack
    submitted = await submit(stack)
    task = await current_task(stack, submitted["id"])
    response = await decide(stack, "reviewer1", task["id"], "approve")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ip_clearance"

    # Long enough for every notice of the closed task to have fired had it stayed open.
    other = await submit(stack)
    await mailbox.wait_for(_about(other["title"], "Overdue"))
    assert not [m for m in mailbox.messages() if _about(submitted["title"], "Reminder")(m)]
    assert [e["type"] for e in await events(stack, submitted["id"])] == [
        "submitted",
        "review_completed",
        "ip_checks_completed",
    ]


async def test_a_new_due_date_restarts_the_reminders(fast_stack: Stack, mailbox: Mailbox) -> None:
    stack = fast_stack
    submitted = await submit(stack)
    task = await current_task(stack, submitted["id"])
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    response = await stack.actor("admin").post(
        f"/v1/tasks/{task['id']}/assignment",
        json={"group": "technical-review", "due_at": later, "reason": "extension"},
    )
    assert response.status_code == 200, response.text

    # Long enough for the old schedule to have reminded and escalated.
    other = await submit(stack)
    await mailbox.wait_for(_about(other["title"], "Overdue"))
    assert not [m for m in mailbox.messages() if _about(submitted["title"], "Reminder")(m)]
    extended = await current_task(stack, submitted["id"])
    assert extended["overdue"] is False
