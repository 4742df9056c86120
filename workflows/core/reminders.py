"""The reminders and escalations an open task owes, as steps the orchestrator records."""

from __future__ import annotations

from datetime import datetime, timedelta

from workflows.core.state import Context
from workflows.core.tasks import OpenTask, notice_times
from workflows.core.transition import Change, Step


def owed(ctx: Context, task: OpenTask) -> list[tuple[str, datetime]]:
    """The task's reminders not sent yet, with when each is due."""
    timings = ctx.start.timings
    return [
        (name, at)
        for name, at in notice_times(
            task, timings.reminder_share, timedelta(seconds=timings.escalation_grace_seconds)
        )
        if name not in task.notices_sent
    ]


def remind(ctx: Context, task: OpenTask, name: str) -> Step:
    """A reminder to the assignees, or (`escalation`) a notice to whoever they answer to."""
    opening = task.opening
    data = {"task_id": opening.task_id, "step": opening.step_key}
    if name == "escalation":
        change = Change(
            event_type="escalation",
            to_status=ctx.status,
            notices=[ctx.notices.escalation(opening)],
            escalated_task_id=opening.task_id,
            data=data,
        )
    else:
        change = Change(
            event_type="reminder",
            to_status=ctx.status,
            notices=[ctx.notices.reminder(opening, name)],
            reminded_task_id=opening.task_id,
            data=data | {"reminder": name},
        )
    return Step(change, commit=lambda: task.notices_sent.append(name))
