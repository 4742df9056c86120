"""Agreements in the browser: the list, the agreement page, its document, and its actions.

Every action calls the API's own endpoint function, so a page takes the same checks and
the same command gateway (one Update to the workflow) as a `curl`; a refusal comes back
as a message on the page with the API's status.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.agreements import endpoints as agreements_api
from services.api.agreements import repository as agreements_repo
from services.api.agreements.schemas import Termination, Withdrawal
from services.api.clearance import endpoints as clearance_api
from services.api.clearance.repository import findings_of
from services.api.clearance.schemas import Dismissal
from services.api.commands import AgreementCommands, agreement_commands
from services.api.deps import get_session, get_settings_dep
from services.api.errors import Conflict
from services.api.filters import NO_NUL
from services.api.reports.repository import signatures_of, stage_times
from services.api.signature import endpoints as signature_api
from services.api.tasks import endpoints as tasks_api
from services.api.tasks import repository as tasks_repo
from services.api.tasks.schemas import AssignmentIn, DecisionIn, TaskOut
from services.api.term.repository import obligations_of
from services.api.users import endpoints as users_api
from services.config import Settings
from services.store import Role
from services.store.base import utcnow
from services.web.auth import Viewer, form_viewer, recover, require_role, viewer
from services.web.forms import choice, lines, nested
from services.web.rendering import REFUSALS, FormErrors, page, redirect
from workflows.clearance.messages import ClearanceOutcome
from workflows.core.proposal import AgreementKind
from workflows.core.statuses import AgreementStatus, TaskKind
from workflows.review.messages import ReviewOutcome
from workflows.signature.messages import SignatureOutcome

router = APIRouter(include_in_schema=False)

# The stage bar: the lifecycle's stages in order (closed is shown as the outcome).
LIFECYCLE = ("review", "ip_clearance", "signature", "active")

# The buttons each kind of task offers, in the order shown.
OUTCOMES: dict[str, tuple[tuple[str, str], ...]] = {
    TaskKind.REVIEW: (
        (ReviewOutcome.APPROVE, "Approve"),
        (ReviewOutcome.REQUEST_CHANGES, "Request changes"),
        (ReviewOutcome.REJECT, "Reject"),
    ),
    TaskKind.IP_CLEARANCE: (
        (ClearanceOutcome.CLEAR, "Clear"),
        (ClearanceOutcome.CLEAR_WITH_CONDITIONS, "Clear with conditions"),
        (ClearanceOutcome.BLOCK, "Block"),
    ),
    TaskKind.SIGNATURE: ((SignatureOutcome.SIGN, "Sign"), (SignatureOutcome.DECLINE, "Decline")),
    TaskKind.REPORT: (("submit", "Submit report"),),
}


@router.get("/agreements")
async def agreement_list(
    request: Request,
    status: Annotated[str | None, Query(max_length=40)] = None,
    kind: Annotated[str | None, Query(max_length=40)] = None,
    country: Annotated[str | None, Query(pattern=r"^([A-Za-z]{2})?$")] = None,
    q: Annotated[str | None, Query(max_length=200, pattern=NO_NUL)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 25,
    who: Viewer = Depends(viewer),
    session: AsyncSession = Depends(get_session),
) -> Response:
    """The API's filters, free text and keyset paging, as a form and a table."""
    listing = await agreements_api.list_agreements(
        status=choice(AgreementStatus, status, "status"),
        kind=choice(AgreementKind, kind, "kind"),
        country=country or None,
        officer_id=None,
        q=q or None,
        cursor=cursor,
        limit=limit,
        user=who.user,
        session=session,
    )
    filters = {
        "status": status or "",
        "kind": kind or "",
        "country": country or "",
        "q": q or "",
        "limit": str(limit) if limit != 25 else "",
    }
    template = "agreements_table.html" if request.headers.get("HX-Request") else "agreements.html"
    return page(
        request,
        template,
        who,
        listing=listing,
        filters=filters,
        statuses=list(AgreementStatus),
        kinds=list(AgreementKind),
        may_submit=who.user.role in (Role.PROGRAM_OFFICER, Role.ADMIN),
    )


@dataclass
class TaskView:
    """An open task as its agreement page shows it, with what the viewer may do on it."""

    task: TaskOut
    actions: tuple[tuple[str, str], ...] = ()
    decided_by_viewer: bool = False


@dataclass
class StepView:
    key: str
    name: str
    group: str
    approvals_required: int
    status: str
    decisions: list[Any] = field(default_factory=list)


async def agreement_context(
    session: AsyncSession, settings: Settings, who: Viewer, agreement_id: UUID
) -> dict[str, Any]:
    """Everything the agreement page shows: the API's read check once, then the
    repositories its read endpoints use, each row read once."""
    user = who.user
    agreement = await agreements_api.readable(session, user, agreement_id)
    detail = await agreements_repo.detail_of(session, agreement)
    events = await agreements_repo.agreement_events(session, agreement.id, limit=None)
    status = AgreementStatus(detail.status)
    # The open tasks with what their assignee decides on (findings, document, report);
    # a review step in progress is one of them.
    tasks_by_id: dict[str, TaskOut] = {}
    for open_task in detail.open_tasks:
        full = await tasks_repo.get_task(session, open_task.id)
        if full is not None:
            tasks_by_id[full.id] = await tasks_api.with_context(session, full)
    tasks = []
    for full in tasks_by_id.values():
        mine = await tasks_repo.is_assignee(session, user.id, full)
        decided = any(d.actor_id == user.id for d in full.decisions)
        actions = OUTCOMES[full.kind] if mine and not decided else ()
        if _critical_open(full):
            # The workflow refuses a plain clear while a critical finding is open.
            actions = tuple(a for a in actions if a[0] != ClearanceOutcome.CLEAR)
        tasks.append(TaskView(task=full, actions=actions, decided_by_viewer=decided))
    steps = []
    for step in detail.review_steps:
        task = tasks_by_id.get(step.task_id or "")
        if task is None and step.task_id:
            task = await tasks_repo.get_task(session, step.task_id)
        steps.append(
            StepView(
                key=step.key,
                name=step.name,
                group=step.group,
                approvals_required=step.approvals_required,
                status=step.status,
                decisions=task.decisions if task else [],
            )
        )
    is_admin = user.role == Role.ADMIN
    may_change = agreements_repo.may_change(user, agreement)
    may_dismiss = status == AgreementStatus.IP_CLEARANCE and (
        is_admin or await agreements_repo.in_group(session, user.id, settings.ip_counsel_group)
    )
    people = groups = []
    if is_admin and any(t.task.kind != TaskKind.SIGNATURE for t in tasks):
        people = await users_api.list_users(role=None, q=None, _=user, session=session)
        groups = await users_api.list_groups(_=user, session=session)
    return {
        "agreement": detail,
        "status": status,
        "lifecycle": LIFECYCLE,
        "stage_days": {
            s.stage: s
            for s in stage_times(((e.to_status, e.at) for e in events), status.stage, utcnow())
        },
        "steps": steps,
        "tasks": tasks,
        "findings": await findings_of(session, agreement.id),
        "obligations": await obligations_of(session, agreement.id),
        "signatures": await signatures_of(session, agreement.id, agreement.revision),
        "events": events,
        "revisions": [e for e in events if e.type == "revised"],
        "may_revise": may_change and status == AgreementStatus.CHANGES_REQUESTED,
        "may_withdraw": may_change and status.may_withdraw,
        "may_terminate": is_admin and not status.is_terminal,
        "may_dismiss": may_dismiss,
        "may_reassign": is_admin,
        "people": people,
        "groups": groups,
    }


def _critical_open(task: TaskOut) -> bool:
    return any(f.severity == "critical" and f.status == "open" for f in task.findings or [])


@router.get("/agreements/{agreement_id}")
async def agreement_page(
    request: Request,
    agreement_id: UUID,
    who: Viewer = Depends(viewer),
    session: AsyncSession = Depends(get_session),
    settings: Settings = Depends(get_settings_dep),
) -> Response:
    context = await agreement_context(session, settings, who, agreement_id)
    return page(
        request,
        "agreement.html",
        who,
        focus=request.query_params.get("task"),
        refusals={},
        refused=None,
        posted={},
        **context,
    )


@dataclass
class Action:
    """A form post on an agreement page: who posts, and the means to carry it out."""

    request: Request
    who: Viewer
    session: AsyncSession
    settings: Settings
    commands: AgreementCommands

    async def form(self) -> dict[str, Any]:
        return nested(await self.request.form())

    async def run(
        self,
        agreement_id: str,
        form_id: str,
        posted: dict[str, Any],
        command: Callable[[], Awaitable[object]],
        done: str,
    ) -> Response:
        """Carry out `command`; on success show the agreement with `done`'s message, on a
        refusal the agreement page again with the reason beside the form that caused it."""
        try:
            await command()
        except REFUSALS as err:
            await recover(self.session, self.who)
            errors = FormErrors.of(err)
            context = await agreement_context(
                self.session, self.settings, self.who, UUID(agreement_id)
            )
            return page(
                self.request,
                "agreement.html",
                self.who,
                status_code=errors.status_code,
                focus=form_id,
                # Bad input is shown beside its form; a refusal (403, 404, 409, 503,
                # 504) at the top: its form may be gone, e.g. a task closed meanwhile.
                refusals={form_id: errors} if errors.status_code == 422 else {},
                refused=errors if errors.status_code != 422 else None,
                posted={form_id: posted},
                **context,
            )
        return redirect(f"/agreements/{agreement_id}?done={done}")


def _action(
    request: Request,
    who: Viewer = Depends(form_viewer),
    session: AsyncSession = Depends(get_session),
    settings: Settings = Depends(get_settings_dep),
    commands: AgreementCommands = Depends(agreement_commands),
) -> Action:
    return Action(request, who, session, settings, commands)


@router.get("/agreements/{agreement_id}/document")
async def document(
    agreement_id: UUID,
    sha256: Annotated[str | None, Query(pattern=r"^[0-9a-f]{64}$")] = None,
    who: Viewer = Depends(viewer),
    session: AsyncSession = Depends(get_session),
) -> Response:
    """The document shown in the page; with `sha256`, only if it is still that document,
    so the hash a signatory signs is the hash of exactly what they were shown."""
    response: Response = await signature_api.get_document(
        agreement_id=agreement_id, user=who.user, session=session
    )
    if sha256 is not None and response.headers.get("X-Document-SHA256") != sha256:
        raise Conflict("the document has changed since this page was loaded; reload the page")
    return response


@router.post("/tasks/{task_id}/decision")
async def decide(task_id: UUID, action: Action = Depends(_action)) -> Response:
    task = await tasks_api.get_task(task_id=task_id, user=action.who.user, session=action.session)
    form = await action.form()
    body: dict[str, Any] = {
        "outcome": form.get("outcome", ""),
        "comment": form.get("comment", ""),
        "conditions": lines(form.get("conditions")),
        "document_sha256": form.get("document_sha256"),
    }
    if form.get("outcome") == "submit":
        body["report"] = form.get("report", {})

    async def command() -> None:
        await tasks_api.decide_task(
            task_id=task_id,
            decision=DecisionIn.model_validate(body),
            request=action.request,
            user=action.who.user,
            session=action.session,
            commands=action.commands,
        )

    return await action.run(task.agreement_id, task.id, form, command, "decided")


@router.post("/tasks/{task_id}/assignment")
async def reassign(task_id: UUID, action: Action = Depends(_action)) -> Response:
    task = await tasks_api.get_task(task_id=task_id, user=action.who.user, session=action.session)
    form = await action.form()
    assignee = form.get("assignee", "")
    assignee = assignee if isinstance(assignee, str) else ""
    body = {
        "user_id": assignee.removeprefix("user:") if assignee.startswith("user:") else None,
        "group": assignee.removeprefix("group:") if assignee.startswith("group:") else None,
        # A date picked in the form: due at the end of that working day, UTC.
        "due_at": f"{form['due_at']}T17:00:00Z" if isinstance(form.get("due_at"), str) else None,
        "reason": form.get("reason", ""),
    }

    async def command() -> None:
        await tasks_api.reassign_task(
            task_id=task_id,
            assignment=AssignmentIn.model_validate(body),
            user=require_role(action.who, Role.ADMIN),
            session=action.session,
            commands=action.commands,
        )

    return await action.run(task.agreement_id, f"reassign-{task.id}", form, command, "reassigned")


@router.post("/agreements/{agreement_id}/withdrawal")
async def withdraw(agreement_id: UUID, action: Action = Depends(_action)) -> Response:
    form = await action.form()

    async def command() -> None:
        await agreements_api.withdraw_agreement(
            agreement_id=agreement_id,
            withdrawal=Withdrawal.model_validate({"reason": form.get("reason", "")}),
            user=action.who.user,
            session=action.session,
            commands=action.commands,
        )

    return await action.run(str(agreement_id), "withdraw", form, command, "withdrawn")


@router.post("/agreements/{agreement_id}/termination")
async def terminate(agreement_id: UUID, action: Action = Depends(_action)) -> Response:
    form = await action.form()

    async def command() -> None:
        await agreements_api.terminate_agreement(
            agreement_id=agreement_id,
            termination=Termination.model_validate({"reason": form.get("reason", "")}),
            user=require_role(action.who, Role.ADMIN),
            session=action.session,
            commands=action.commands,
        )

    return await action.run(str(agreement_id), "terminate", form, command, "terminated")


@router.post("/agreements/{agreement_id}/findings/{finding_id}/dismissal")
async def dismiss(
    agreement_id: UUID, finding_id: UUID, action: Action = Depends(_action)
) -> Response:
    form = await action.form()

    async def command() -> None:
        await clearance_api.dismiss_finding(
            agreement_id=agreement_id,
            finding_id=finding_id,
            dismissal=Dismissal.model_validate({"reason": form.get("reason", "")}),
            user=require_role(action.who, Role.IP_COUNSEL, Role.ADMIN),
            session=action.session,
            settings=action.settings,
            commands=action.commands,
        )

    return await action.run(str(agreement_id), f"dismiss-{finding_id}", form, command, "dismissed")
