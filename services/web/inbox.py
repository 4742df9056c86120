"""The home page: my open tasks across every stage; and my reminders and escalations."""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.deps import get_session
from services.api.tasks import endpoints as tasks_api
from services.api.tasks.schemas import TaskOut
from services.api.users import endpoints as users_api
from services.store import Agreement
from services.web.auth import Viewer, viewer
from services.web.rendering import page, redirect
from workflows.core.proposal import AgreementKind
from workflows.core.statuses import TaskKind, TaskStatus

router = APIRouter(include_in_schema=False)

# A task's kind is the lifecycle stage it belongs to; reports are owed while active.
STAGE_OF_TASK = {
    TaskKind.REVIEW: "review",
    TaskKind.IP_CLEARANCE: "ip_clearance",
    TaskKind.SIGNATURE: "signature",
    TaskKind.REPORT: "active",
}
# An inbox longer than this is read in pages of the API's largest size.
_INBOX_PAGES = 5


async def my_open_tasks(user: Viewer, session: AsyncSession) -> list[TaskOut]:
    tasks: list[TaskOut] = []
    cursor: str | None = None
    for _ in range(_INBOX_PAGES):
        batch = await tasks_api.list_tasks(
            assignee="me",
            status=TaskStatus.OPEN,
            agreement_id=None,
            cursor=cursor,
            limit=200,
            user=user.user,
            session=session,
        )
        tasks += batch.items
        cursor = batch.next_cursor
        if cursor is None:
            break
    return tasks


@router.get("/")
async def inbox(
    request: Request,
    stage: Annotated[str | None, Query(max_length=40)] = None,
    kind: Annotated[str | None, Query(max_length=40)] = None,
    agreement: Annotated[str | None, Query(max_length=36)] = None,
    who: Viewer = Depends(viewer),
    session: AsyncSession = Depends(get_session),
) -> Response:
    """Soonest due first, overdue ones marked; filters narrow the list, counts show all."""
    tasks = await my_open_tasks(who, session)
    kinds = dict(
        (
            await session.execute(
                select(Agreement.id, Agreement.kind).where(
                    Agreement.id.in_({t.agreement_id for t in tasks})
                )
            )
        ).all()
    )
    agreements = sorted({(t.agreement_id, t.agreement_title) for t in tasks}, key=lambda a: a[1])
    shown = [
        t
        for t in tasks
        if (not stage or STAGE_OF_TASK[TaskKind(t.kind)] == stage)
        and (not kind or kinds.get(t.agreement_id) == kind)
        and (not agreement or t.agreement_id == agreement)
    ]
    context: dict[str, Any] = {
        "tasks": shown,
        "total": len(tasks),
        "overdue": sum(t.overdue for t in tasks),
        "by_stage": Counter(STAGE_OF_TASK[TaskKind(t.kind)] for t in tasks),
        "stages": list(dict.fromkeys(STAGE_OF_TASK.values())),
        "agreement_kinds": list(AgreementKind),
        "agreements": agreements,
        "kinds_of": kinds,
        "filters": {"stage": stage or "", "kind": kind or "", "agreement": agreement or ""},
    }
    # htmx asks for the table alone when a filter changes.
    template = "inbox_table.html" if request.headers.get("HX-Request") else "inbox.html"
    return page(request, template, who, **context)


@router.get("/tasks/{task_id}")
async def open_task(
    task_id: UUID,
    who: Viewer = Depends(viewer),
    session: AsyncSession = Depends(get_session),
) -> Response:
    """A task opens in its agreement (the link a notice carries)."""
    task = await tasks_api.get_task(task_id=task_id, user=who.user, session=session)
    return redirect(f"/agreements/{task.agreement_id}?task={task.id}#task-{task.id}")


@router.get("/notifications")
async def notifications(
    request: Request,
    who: Viewer = Depends(viewer),
    session: AsyncSession = Depends(get_session),
) -> Response:
    notes = await users_api.my_notifications(limit=200, user=who.user, session=session)
    return page(request, "notifications.html", who, notes=notes)
