"""Queries about tasks: inboxes, details, and who may decide."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from services.api.pagination import decode_keyset, encode_cursor
from services.api.tasks.schemas import Assignee, DecisionOut, TaskOut
from services.store import Agreement, Group, GroupMember, Task, TaskDecision, User
from services.store.base import utcnow
from workflows.messages import ReviewOutcome, TaskStatus

_AssignedUser = aliased(User)
_approvals = (
    select(func.count(TaskDecision.id))
    .where(TaskDecision.task_id == Task.id, TaskDecision.outcome == ReviewOutcome.APPROVE)
    .correlate(Task)
    .scalar_subquery()
)


def _task_rows() -> Select[Task, str, str | None, str | None, int]:
    return (
        select(Task, Agreement.title, Group.name, _AssignedUser.name, _approvals)
        .join(Agreement, Agreement.id == Task.agreement_id)
        .outerjoin(Group, Group.id == Task.assignee_group_id)
        .outerjoin(_AssignedUser, _AssignedUser.id == Task.assignee_user_id)
    )


def _to_out(
    row: tuple[Task, str, str | None, str | None, int],
    now: datetime,
    decisions: list[DecisionOut] | None = None,
) -> TaskOut:
    task, title, group_name, user_name, approvals = row
    if task.assignee_user_id:
        assignee = Assignee(type="user", id=task.assignee_user_id, name=user_name or "")
    else:
        assignee = Assignee(type="group", id=task.assignee_group_id or "", name=group_name or "")
    return TaskOut(
        id=task.id,
        agreement_id=task.agreement_id,
        agreement_title=title,
        kind=task.kind,
        step_key=task.step_key,
        step_name=task.step_name,
        round=task.round,
        assignee=assignee,
        approvals_required=task.approvals_required,
        approvals=approvals,
        status=task.status,
        outcome=task.outcome,
        due_at=task.due_at,
        overdue=task.status == TaskStatus.OPEN and task.due_at < now,
        created_at=task.created_at,
        closed_at=task.closed_at,
        decisions=decisions or [],
    )


def _assigned_to(user_id: str) -> object:
    my_groups = select(GroupMember.group_id).where(GroupMember.user_id == user_id)
    return or_(Task.assignee_user_id == user_id, Task.assignee_group_id.in_(my_groups))


async def list_tasks(
    session: AsyncSession,
    *,
    assignee_id: str | None,
    status: str | None,
    agreement_id: str | None,
    cursor: str | None,
    limit: int,
    officer_id: str | None = None,
) -> tuple[list[TaskOut], str | None]:
    """Tasks by due date; an assignee's inbox leaves out tasks they have already voted on.

    `officer_id` keeps only the tasks of that officer's agreements.
    """
    stmt = _task_rows()
    if officer_id is not None:
        stmt = stmt.where(Agreement.officer_id == officer_id)
    if assignee_id is not None:
        stmt = stmt.where(_assigned_to(assignee_id))  # type: ignore[arg-type]
        if status == TaskStatus.OPEN:
            voted = exists().where(
                TaskDecision.task_id == Task.id, TaskDecision.actor_id == assignee_id
            )
            stmt = stmt.where(~voted)
    if status is not None:
        stmt = stmt.where(Task.status == status)
    if agreement_id is not None:
        stmt = stmt.where(Task.agreement_id == agreement_id)
    if cursor is not None:
        due_at, task_id = decode_keyset(cursor)
        stmt = stmt.where(or_(Task.due_at > due_at, and_(Task.due_at == due_at, Task.id > task_id)))
    rows = await session.execute(stmt.order_by(Task.due_at, Task.id).limit(limit + 1))
    now = utcnow()
    items = [_to_out(row, now) for row in rows]
    next_cursor = None
    if len(items) > limit:
        items = items[:limit]
        next_cursor = encode_cursor(items[-1].due_at.isoformat(), items[-1].id)
    return items, next_cursor


async def get_task(session: AsyncSession, task_id: str) -> TaskOut | None:
    row = (await session.execute(_task_rows().where(Task.id == task_id))).first()
    if row is None:
        return None
    decisions = [
        DecisionOut(
            actor_id=decision.actor_id,
            actor_name=name,
            outcome=decision.outcome,
            comment=decision.comment,
            decided_at=decision.decided_at,
        )
        for decision, name in (
            await session.execute(
                select(TaskDecision, User.name)
                .join(User, User.id == TaskDecision.actor_id)
                .where(TaskDecision.task_id == task_id)
                .order_by(TaskDecision.decided_at, TaskDecision.id)
            )
        )
    ]
    return _to_out(row, utcnow(), decisions)


async def open_tasks_of(session: AsyncSession, agreement_id: str) -> list[TaskOut]:
    rows = await session.execute(
        _task_rows()
        .where(Task.agreement_id == agreement_id, Task.status == TaskStatus.OPEN)
        .order_by(Task.due_at, Task.id)
    )
    now = utcnow()
    return [_to_out(row, now) for row in rows]


async def is_assignee(session: AsyncSession, user_id: str, task: TaskOut) -> bool:
    """Whether the user is the task's assignee or a member of its group."""
    if task.assignee.type == "user":
        return task.assignee.id == user_id
    member = await session.scalar(
        select(GroupMember.user_id).where(
            GroupMember.group_id == task.assignee.id, GroupMember.user_id == user_id
        )
    )
    return member is not None
