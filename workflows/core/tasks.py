"""Tasks: what opens and closes them, and the reminders each one owes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from pydantic import BaseModel, Field

from workflows.core.statuses import TaskKind, TaskStatus


class TaskOpening(BaseModel):
    task_id: str
    kind: TaskKind
    step_key: str
    step_name: str
    round: int
    group_id: str | None
    user_id: str | None = None
    approvals_required: int
    due_at: datetime


class TaskClosing(BaseModel):
    task_id: str
    status: TaskStatus
    outcome: str | None = None


class OpenTask(BaseModel):
    """A task the workflow tracks while it is open (carried across continue-as-new)."""

    opening: TaskOpening
    # When the reminder schedule started: the task's creation, or its last new due date.
    created_at: datetime
    voters: list[str] = Field(default_factory=list)
    notices_sent: list[str] = Field(default_factory=list)


def notice_times(
    task: OpenTask, reminder_share: float, escalation_grace: timedelta
) -> list[tuple[str, datetime]]:
    """The reminders a task owes and when: one when `reminder_share` of its time has
    passed, one at the due date, an escalation a grace period after it."""
    created, due = task.created_at, task.opening.due_at
    reminder = created + (due - created) * reminder_share
    if task.opening.kind == TaskKind.SIGNATURE:
        # The envelope expires at the due date: two reminders before, no escalation.
        final = created + (due - created) * ((1 + reminder_share) / 2)
        return [("reminder", reminder), ("final_reminder", final)]
    return [("reminder", reminder), ("due", due), ("escalation", due + escalation_grace)]


def close_all(
    open_ids: Iterable[str], decided_id: str | None = None, outcome: str | None = None
) -> list[TaskClosing]:
    """Close every open task: the decided one done with its outcome, the others cancelled."""
    return [
        TaskClosing(task_id=task_id, status=TaskStatus.DONE, outcome=outcome)
        if task_id == decided_id
        else TaskClosing(task_id=task_id, status=TaskStatus.CANCELLED)
        for task_id in open_ids
    ]


def done(task_id: str, outcome: str) -> list[TaskClosing]:
    return [TaskClosing(task_id=task_id, status=TaskStatus.DONE, outcome=outcome)]
