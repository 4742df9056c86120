"""persist_transition writes each transition once, however often it is attempted."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from temporalio.testing import ActivityEnvironment

from services.mail import Mailer
from services.store import Agreement, AgreementEvent, Notification, Task, User
from services.workers.core.activities import TransitionActivities
from services.workers.review.activities import ReviewActivities
from tests.factories import proposal
from tests.stack import Stack
from workflows.core.notices import Notice, NoticeKind
from workflows.core.proposal import Proposal
from workflows.core.state import AgreementStart, Timings
from workflows.core.statuses import AgreementStatus, TaskKind
from workflows.core.tasks import TaskOpening
from workflows.core.transition import Transition


async def _submission(stack: Stack) -> Transition:
    async with stack.sessions() as session:
        officer_id = await session.scalar(
            select(User.id).where(User.email == "olivia.officer@accord.test")
        )
    review = ReviewActivities(stack.sessions, stack.settings)
    body = Proposal.model_validate(proposal())
    plan = await ActivityEnvironment().run(review.plan_review, body)
    agreement_id = str(uuid.uuid4())
    now = datetime.now(UTC)
    task_id = str(uuid.uuid4())
    step = plan.steps[0]
    return Transition(
        key=f"agreement-{agreement_id}/1",
        seq=1,
        agreement_id=agreement_id,
        at=now,
        actor_id=officer_id,
        event_type="submitted",
        from_status=None,
        to_status=AgreementStatus.IN_REVIEW,
        create=AgreementStart(
            agreement_id=agreement_id,
            officer_id=str(officer_id),
            proposal=body,
            timings=Timings(reminder_share=0.5, escalation_grace_seconds=60),
        ),
        opens=[
            TaskOpening(
                task_id=task_id,
                kind=TaskKind.REVIEW,
                step_key=step.key,
                step_name=step.name,
                round=0,
                group_id=step.group_id,
                approvals_required=1,
                due_at=now + timedelta(hours=1),
            )
        ],
        notices=[
            Notice(
                kind=NoticeKind.TASK_ASSIGNED,
                audience="assignees",
                task_id=task_id,
                subject="New task",
                body="Please review.",
            )
        ],
    )


async def _counts(stack: Stack, agreement_id: str) -> tuple[int, int, int, int]:
    async with stack.sessions() as session:
        return (
            await session.scalar(select(func.count()).where(Agreement.id == agreement_id)),
            await session.scalar(
                select(func.count()).where(AgreementEvent.agreement_id == agreement_id)
            ),
            await session.scalar(select(func.count()).where(Task.agreement_id == agreement_id)),
            await session.scalar(
                select(func.count()).where(Notification.agreement_id == agreement_id)
            ),
        )  # type: ignore[return-value]


async def test_a_retried_transition_writes_once(stack: Stack) -> None:
    transition = await _submission(stack)
    activities = TransitionActivities(stack.sessions, Mailer(stack.settings))
    env = ActivityEnvironment()

    first = await env.run(activities.persist_transition, transition)
    again = await env.run(activities.persist_transition, transition)

    assert again == first
    # technical-review has two members: one notification each.
    assert len(first.notification_ids) == 2
    assert await _counts(stack, transition.agreement_id) == (1, 1, 1, 2)


async def test_concurrent_attempts_of_one_transition_write_once(stack: Stack) -> None:
    transition = await _submission(stack)
    activities = TransitionActivities(stack.sessions, Mailer(stack.settings))

    results = await asyncio.gather(
        *(ActivityEnvironment().run(activities.persist_transition, transition) for _ in range(4))
    )

    assert len({tuple(r.notification_ids) for r in results}) == 1
    assert await _counts(stack, transition.agreement_id) == (1, 1, 1, 2)


async def test_a_later_transition_with_a_used_number_is_refused(stack: Stack) -> None:
    """Two different transitions can never share an event number: no duplicate, no gap."""
    transition = await _submission(stack)
    activities = TransitionActivities(stack.sessions, Mailer(stack.settings))
    env = ActivityEnvironment()
    await env.run(activities.persist_transition, transition)
    clash = transition.model_copy(
        update={"key": transition.key + "-other", "create": None, "opens": [], "notices": []}
    )
    try:
        await env.run(activities.persist_transition, clash)
    except Exception as err:  # the activity reports a non-retryable conflict
        assert "constraint" in str(err)
    else:
        raise AssertionError("a second event with seq 1 was accepted")
    assert await _counts(stack, transition.agreement_id) == (1, 1, 1, 2)
