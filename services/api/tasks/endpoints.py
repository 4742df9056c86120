"""The inbox and the one endpoint that decides any task."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.agreements.endpoints import _detail_or_404
from services.api.agreements.repository import get_agreement, may_read
from services.api.agreements.schemas import AgreementDetail
from services.api.auth import current_user, require_role
from services.api.clearance.repository import findings_of
from services.api.commands import AgreementCommands, agreement_commands
from services.api.deps import get_session
from services.api.errors import (
    COMMAND_ERRORS,
    Conflict,
    Forbidden,
    NotFound,
    documented,
    invalid_field,
)
from services.api.signature.schemas import DocumentRef
from services.api.tasks import repository
from services.api.tasks.repository import is_assignee
from services.api.tasks.schemas import AssignmentIn, DecisionIn, TaskOut, TaskPage
from services.api.term.repository import obligation_out
from services.store import Agreement, Group, Obligation, Role, User
from services.store.base import utcnow
from workflows.core.commands import Reassignment
from workflows.core.interventions import beyond_reach
from workflows.core.statuses import TaskKind, TaskStatus
from workflows.decisions import OUTCOMES_BY_KIND

# How far ahead a reassigned task may fall due.

router = APIRouter(prefix="/v1/tasks", tags=["tasks"], responses=documented(401))


@router.get("", response_model=TaskPage, responses=documented(403))
async def list_tasks(
    assignee: Annotated[
        str | None, Query(description="'me', or a user id (admins only)", max_length=36)
    ] = None,
    status: Annotated[TaskStatus | Literal["any"], Query()] = TaskStatus.OPEN,
    agreement_id: UUID | None = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    user: User = Depends(current_user),
    session: AsyncSession = Depends(get_session),
) -> TaskPage:
    """Tasks by due date; `assignee=me` is the caller's inbox."""
    assignee_id: str | None = None
    if assignee == "me":
        assignee_id = user.id
    elif assignee is not None:
        try:
            assignee_id = str(UUID(assignee))
        except ValueError:
            raise invalid_field(("query", "assignee"), "use 'me' or a user id", assignee) from None
        if assignee_id != user.id and user.role != Role.ADMIN:
            raise Forbidden("only admins may read another person's inbox")
    # Program officers see the tasks of their own agreements, and their own inbox.
    officer_scope = (
        user.id if user.role == Role.PROGRAM_OFFICER and assignee_id != user.id else None
    )
    items, next_cursor = await repository.list_tasks(
        session,
        assignee_id=assignee_id,
        status=None if status == "any" else status,
        agreement_id=str(agreement_id) if agreement_id else None,
        cursor=cursor,
        limit=limit,
        officer_id=officer_scope,
    )
    return TaskPage(items=items, next_cursor=next_cursor)


@router.get("/{task_id}", response_model=TaskOut, responses=documented(403, 404))
async def get_task(
    task_id: UUID,
    user: User = Depends(current_user),
    session: AsyncSession = Depends(get_session),
) -> TaskOut:
    task = await _task_or_404(session, task_id)
    if user.role == Role.PROGRAM_OFFICER and not await is_assignee(session, user.id, task):
        agreement = await get_agreement(session, task.agreement_id)
        if agreement is None or not may_read(user, agreement):
            raise Forbidden("program officers may read only the tasks of their own agreements")
    return await with_context(session, task)


async def with_context(session: AsyncSession, task: TaskOut) -> TaskOut:
    """What the assignee needs to decide: findings, the document, or the obligation."""
    if task.kind == TaskKind.IP_CLEARANCE:
        task.findings = await findings_of(session, task.agreement_id, task.round)
    elif task.kind == TaskKind.SIGNATURE:
        digest = await session.scalar(
            select(Agreement.document_sha256).where(Agreement.id == task.agreement_id)
        )
        if digest:
            task.document = DocumentRef(
                sha256=digest, url=f"/v1/agreements/{task.agreement_id}/document"
            )
    elif task.kind == TaskKind.REPORT:
        obligation = await session.scalar(select(Obligation).where(Obligation.task_id == task.id))
        if obligation is not None:
            task.obligation = obligation_out(obligation)
    return task


@router.post(
    "/{task_id}/decision",
    response_model=AgreementDetail,
    responses=documented(
        *COMMAND_ERRORS,
        s403="The caller is not the task's assignee nor in its group",
        s409="The task is no longer open, or the caller already decided it",
    ),
)
async def decide_task(
    task_id: UUID,
    decision: DecisionIn,
    request: Request,
    user: User = Depends(current_user),
    session: AsyncSession = Depends(get_session),
    commands: AgreementCommands = Depends(agreement_commands),
) -> AgreementDetail:
    """Decide a task; the answer says at once whether the decision was accepted."""
    task = await _task_or_404(session, task_id)
    if not await is_assignee(session, user.id, task):
        raise Forbidden("only the task's assignee, or a member of its group, may decide it")
    allowed = OUTCOMES_BY_KIND[TaskKind(task.kind)]
    if decision.outcome not in allowed:
        raise invalid_field(
            ("body", "outcome"),
            f"a {task.kind} task takes one of: {', '.join(sorted(allowed))}",
            decision.outcome,
        )
    if task.status != TaskStatus.OPEN:
        raise Conflict(f"task is {task.status}; it takes no more decisions")
    if any(d.actor_id == user.id for d in task.decisions):
        raise Conflict("you have already decided this task")
    await commands.decide(task.agreement_id, decision.typed(task.id, user.id, **_facts(request)))
    return await _detail_or_404(session, task.agreement_id)


def _facts(request: Request) -> dict[str, str | None]:
    """Where a decision came from: a signature records it."""
    return {
        "ip_address": request.client.host if request.client else None,
        "user_agent": request.headers.get("user-agent", "")[:1000] or None,
    }


@router.post(
    "/{task_id}/assignment",
    response_model=TaskOut,
    responses=documented(
        *COMMAND_ERRORS,
        s403="Only admins reassign tasks",
        s409="The task is no longer open",
    ),
)
async def reassign_task(
    task_id: UUID,
    assignment: AssignmentIn,
    user: User = Depends(require_role(Role.ADMIN)),
    session: AsyncSession = Depends(get_session),
    commands: AgreementCommands = Depends(agreement_commands),
) -> TaskOut:
    """Hand a stalled task to someone else; the new assignees are notified."""
    task = await _task_or_404(session, task_id)
    if task.status != TaskStatus.OPEN:
        raise Conflict(f"task is {task.status}; only open tasks can be reassigned")
    if task.kind == TaskKind.SIGNATURE:
        raise Conflict("a signature task belongs to its named signatory; revise the signatories")
    user_id = group_id = None
    if assignment.user_id is not None:
        assignee = await session.get(User, str(assignment.user_id))
        if assignee is None or not assignee.active:
            raise invalid_field(
                ("body", "user_id"), "no active user with this id", str(assignment.user_id)
            )
        user_id = assignee.id
    else:
        group_id = await session.scalar(select(Group.id).where(Group.slug == assignment.group))
        if group_id is None:
            raise invalid_field(("body", "group"), "no group with this slug", assignment.group)
    if assignment.due_at is not None and assignment.due_at <= utcnow():
        raise invalid_field(
            ("body", "due_at"), "must be in the future", assignment.due_at.isoformat()
        )
    # The workflow reckons reminders and escalation from the due date: one near the end
    # of the calendar overflowed there and stopped the agreement's workflow for good.
    if assignment.due_at is not None and beyond_reach(assignment.due_at, utcnow()):
        raise invalid_field(
            ("body", "due_at"), "must be within a year from now", assignment.due_at.isoformat()
        )
    await commands.reassign(
        task.agreement_id,
        Reassignment(
            task_id=task.id,
            actor_id=user.id,
            user_id=user_id,
            group_id=group_id,
            due_at=assignment.due_at,
            reason=assignment.reason,
        ),
    )
    return await _task_or_404(session, task.id)


async def _task_or_404(session: AsyncSession, task_id: UUID | str) -> TaskOut:
    task = await repository.get_task(session, str(task_id))
    if task is None:
        raise NotFound(f"no task {task_id}")
    return task
