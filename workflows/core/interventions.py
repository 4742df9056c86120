"""What officers and admins may do at any stage: hand a task to someone else, withdraw
a proposal, end an agreement."""

from __future__ import annotations

from datetime import datetime, timedelta

from workflows.core.commands import (
    CommandRejected,
    Reassignment,
    WithdrawalCommand,
    rejected,
)
from workflows.core.state import Context
from workflows.core.statuses import AgreementStatus, TaskKind
from workflows.core.tasks import OpenTask, close_all
from workflows.core.transition import Change, Step

# How far ahead a reassignment may move a task's due date: reminder arithmetic past the
# end of the calendar would fail every task. The API refuses it first, with this rule.
MAX_DUE_AHEAD = timedelta(days=366)


def beyond_reach(due_at: datetime, now: datetime) -> bool:
    """A due date too far ahead for a task's reminders."""
    return due_at > now + MAX_DUE_AHEAD


def check_reassignment(task: OpenTask, command: Reassignment, now: datetime) -> None:
    if (command.user_id is None) == (command.group_id is None):
        raise rejected("name either a user or a group", CommandRejected.INVALID_ASSIGNEE)
    if task.opening.kind == TaskKind.SIGNATURE:
        raise rejected(
            "a signature task belongs to its named signatory and cannot be reassigned",
            CommandRejected.WRONG_STATUS,
        )
    if command.due_at is not None and beyond_reach(command.due_at, now):
        raise rejected("a new due date must be within a year", CommandRejected.INVALID_DATA)


def reassigned(ctx: Context, task: OpenTask, command: Reassignment) -> Step:
    """The task goes to its new assignees, who are told; a new due date restarts its
    reminders from now."""
    opening = task.opening.model_copy(
        update={
            "user_id": command.user_id,
            "group_id": command.group_id,
            "due_at": command.due_at or task.opening.due_at,
        }
    )

    def keep() -> None:
        task.opening = opening
        if command.due_at is not None:
            task.created_at = ctx.now
            task.notices_sent = []

    return Step(
        Change(
            event_type="task_reassigned",
            to_status=ctx.status,
            actor_id=command.actor_id,
            reassigns=[opening],
            notices=[ctx.notices.assigned(opening)],
            data={
                "task_id": opening.task_id,
                "step": opening.step_key,
                "user_id": command.user_id,
                "group_id": command.group_id,
                "due_at": opening.due_at.isoformat(),
                "reason": command.reason,
            },
        ),
        commit=keep,
    )


def require_withdrawable(status: AgreementStatus | None) -> None:
    if status is None or not status.may_withdraw:
        raise rejected(
            f"agreement is {status}; it can no longer be withdrawn", CommandRejected.WRONG_STATUS
        )


def withdrawn(ctx: Context, command: WithdrawalCommand) -> Step:
    return Step(
        Change(
            event_type="withdrawn",
            to_status=AgreementStatus.WITHDRAWN,
            actor_id=command.actor_id,
            closes=close_all(ctx.state.open_tasks),
            data={"reason": command.reason},
        )
    )


def require_open(status: AgreementStatus | None) -> None:
    if status is None or status.is_terminal:
        raise rejected(f"agreement is {status}; it has already ended", CommandRejected.WRONG_STATUS)
