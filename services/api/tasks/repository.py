"""Queries about tasks: inboxes, details, and who may decide."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, Select, exists, func, select, union
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from services.api.pagination import after_keyset, decode_keyset, encode_cursor
from services.api.tasks.schemas import Assignee, DecisionOut, TaskOut
from services.store import Agreement, Group, GroupMember, Task, TaskDecision, User
from services.store.base import utcnow
from workflows.core.statuses import TaskStatus
from workflows.review.messages import ReviewOutcome

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


# The tasks a page is chosen from: an alias, so the page's subquery stands on its own.
_Paged = aliased(Task)


async def _ways_to(session: AsyncSession, user_id: str) -> list[ColumnElement[bool]]:
    """How a task reaches the user: assigned to them, or to each of their groups."""
    my_groups = await session.scalars(
        select(GroupMember.group_id)
        .where(GroupMember.user_id == user_id)
        .order_by(GroupMember.group_id)
    )
    return [
        _Paged.assignee_user_id == user_id,
        *(_Paged.assignee_group_id == group_id for group_id in my_groups),
    ]


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

    The page's task ids are chosen first, then only those rows are joined to their
    agreement, group and assignee. An inbox is the union of one page per way a task
    reaches the assignee (their own, each of their groups'), each read in due order from
    its (assignee, status, due_at, id) index: a page costs the same however long the
    backlog. As one OR, PostgreSQL fetched and sorted every open task of the groups, and
    SQLite walked every open task (docs/reads-at-scale.md).
    """
    candidates = select(_Paged.id, _Paged.due_at)
    if officer_id is not None:
        candidates = candidates.join(Agreement, Agreement.id == _Paged.agreement_id).where(
            Agreement.officer_id == officer_id
        )
    if assignee_id is not None and status == TaskStatus.OPEN:
        voted = exists().where(
            TaskDecision.task_id == _Paged.id, TaskDecision.actor_id == assignee_id
        )
        candidates = candidates.where(~voted)
    if status is not None:
        candidates = candidates.where(_Paged.status == status)
    if agreement_id is not None:
        candidates = candidates.where(_Paged.agreement_id == agreement_id)
    if cursor is not None:
        due_at, task_id = decode_keyset(cursor)
        candidates = candidates.where(
            after_keyset(_Paged.due_at, _Paged.id, due_at, task_id, descending=False)
        )

    def first(query: Select[str, datetime]) -> Select[str, datetime]:
        return query.order_by(_Paged.due_at, _Paged.id).limit(limit + 1)

    if assignee_id is None:
        page = first(candidates).subquery("page")
    else:
        branches = [
            select(first(candidates.where(way)).subquery())
            for way in await _ways_to(session, assignee_id)
        ]
        # UNION, not UNION ALL: a task assigned to the user and to their group counts once.
        either = union(*branches).subquery("either")
        page = (
            select(either.c.id, either.c.due_at)
            .order_by(either.c.due_at, either.c.id)
            .limit(limit + 1)
            .subquery("page")
        )
    rows = await session.execute(
        _task_rows().join(page, page.c.id == Task.id).order_by(Task.due_at, Task.id)
    )
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
