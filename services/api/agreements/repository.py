"""Queries about agreements and their timelines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import load_only, selectinload

from services.api.agreements.schemas import (
    AgreementDetail,
    AgreementSummary,
    EventOut,
    PersonRef,
    ReviewStepOut,
    StepStatus,
)
from services.api.filters import matches_text
from services.api.pagination import after_keyset, decode_keyset, encode_cursor
from services.api.signature.schemas import DocumentRef
from services.api.tasks.repository import open_tasks_of
from services.store import (
    Agreement,
    AgreementEvent,
    AgreementParty,
    Group,
    GroupMember,
    Role,
    Task,
    User,
)
from services.store.base import utcnow
from workflows.core.proposal import ExportControl, Party, Signatory
from workflows.core.statuses import AgreementStatus, TaskKind, TaskStatus
from workflows.review.messages import ReviewOutcome


@dataclass(frozen=True)
class AgreementFilters:
    status: str | None = None
    kind: str | None = None
    country: str | None = None
    officer_id: str | None = None
    text: str | None = None


def may_read(user: User, agreement: Agreement) -> bool:
    """Program officers see their own agreements; every other role sees all."""
    return user.role != Role.PROGRAM_OFFICER or agreement.officer_id == user.id


def may_change(user: User, agreement: Agreement) -> bool:
    """Only the owning officer, or an admin, may revise or withdraw."""
    return user.role == Role.ADMIN or agreement.officer_id == user.id


def _summary_fields(agreement: Agreement, officer_name: str, now: datetime) -> dict[str, object]:
    return dict(
        id=agreement.id,
        title=agreement.title,
        kind=agreement.kind,
        status=agreement.status,
        stage=AgreementStatus(agreement.status).stage,
        officer=PersonRef(id=agreement.officer_id, name=officer_name),
        parties=[
            Party.model_validate({"name": p.name, "country": p.country, "role": p.role})
            for p in agreement.parties
        ],
        estimated_value=agreement.estimated_value,
        currency=agreement.currency,
        revision=agreement.revision,
        created_at=agreement.created_at,
        updated_at=agreement.updated_at,
        status_changed_at=agreement.status_changed_at,
        days_in_stage=round((now - agreement.status_changed_at).total_seconds() / 86400, 2),
    )


async def in_group(session: AsyncSession, user_id: str, slug: str) -> bool:
    """Whether the user is a member of the group with this slug (e.g. IP counsel)."""
    member = await session.scalar(
        select(GroupMember.user_id)
        .join(Group, Group.id == GroupMember.group_id)
        .where(Group.slug == slug, GroupMember.user_id == user_id)
    )
    return member is not None


async def get_agreement(session: AsyncSession, agreement_id: str) -> Agreement | None:
    return await session.scalar(
        select(Agreement)
        .where(Agreement.id == agreement_id)
        .options(selectinload(Agreement.parties))
    )


async def by_idempotency_key(session: AsyncSession, officer_id: str, key: str) -> Agreement | None:
    return await session.scalar(
        select(Agreement).where(
            Agreement.officer_id == officer_id, Agreement.idempotency_key == key
        )
    )


async def agreement_detail(session: AsyncSession, agreement_id: str) -> AgreementDetail | None:
    agreement = await get_agreement(session, agreement_id)
    if agreement is None:
        return None
    return await detail_of(session, agreement)


async def detail_of(session: AsyncSession, agreement: Agreement) -> AgreementDetail:
    """The detail of an agreement loaded by get_agreement (with its parties)."""
    agreement_id = agreement.id
    officer_name = await session.scalar(select(User.name).where(User.id == agreement.officer_id))
    return AgreementDetail(
        **_summary_fields(agreement, officer_name or "", utcnow()),
        summary=agreement.summary,
        ip_assets=agreement.ip_assets,
        terms=agreement.terms,
        signatories=[Signatory.model_validate(s) for s in agreement.signatories],
        export_control=(
            ExportControl.model_validate(agreement.export_control)
            if agreement.export_control
            else None
        ),
        conditions=agreement.conditions,
        document=(
            DocumentRef(
                sha256=agreement.document_sha256, url=f"/v1/agreements/{agreement.id}/document"
            )
            if agreement.document_sha256
            else None
        ),
        effective_at=agreement.effective_at,
        ends_at=agreement.ends_at,
        overdue_obligations=agreement.overdue_obligations,
        policy_version=agreement.policy_version,
        workflow_id=agreement.workflow_id,
        open_tasks=await open_tasks_of(session, agreement_id),
        review_steps=await review_steps(session, agreement),
    )


_STEP_STATUS: dict[tuple[str, str | None], StepStatus] = {
    (TaskStatus.OPEN, None): "in_progress",
    (TaskStatus.DONE, ReviewOutcome.APPROVE): "approved",
    (TaskStatus.DONE, ReviewOutcome.REJECT): "rejected",
    (TaskStatus.DONE, ReviewOutcome.REQUEST_CHANGES): "changes_requested",
    (TaskStatus.CANCELLED, None): "cancelled",
    (TaskStatus.EXPIRED, None): "expired",
}


async def review_steps(session: AsyncSession, agreement: Agreement) -> list[ReviewStepOut]:
    """The plan of the current round (from its submitted/revised event) beside its tasks."""
    plan = await session.scalar(
        select(AgreementEvent.data)
        .where(
            AgreementEvent.agreement_id == agreement.id,
            AgreementEvent.type.in_(("submitted", "revised")),
        )
        .order_by(AgreementEvent.seq.desc())
        .limit(1)
    )
    tasks = {
        task.step_key: task
        for task in await session.scalars(
            select(Task).where(
                Task.agreement_id == agreement.id,
                Task.round == agreement.revision,
                Task.kind == TaskKind.REVIEW,
            )
        )
    }
    steps = []
    for step in (plan or {}).get("steps", []):
        task = tasks.get(step["key"])
        status: StepStatus = _STEP_STATUS[(task.status, task.outcome)] if task else "not_reached"
        steps.append(ReviewStepOut(**step, status=status, task_id=task.id if task else None))
    return steps


_SUMMARY_COLUMNS = (
    Agreement.title,
    Agreement.kind,
    Agreement.status,
    Agreement.officer_id,
    Agreement.estimated_value,
    Agreement.currency,
    Agreement.revision,
    Agreement.created_at,
    Agreement.updated_at,
    Agreement.status_changed_at,
)


async def list_agreements(
    session: AsyncSession,
    filters: AgreementFilters,
    *,
    cursor: str | None,
    limit: int,
) -> tuple[list[AgreementSummary], str | None]:
    """Newest first, keyset-paginated on (created_at, id).

    The page's ids are chosen first, from the filters' indexes alone (index-only scans of
    (status | officer_id | kind, created_at, id) on PostgreSQL), then only those rows are
    read. Asked for the rows at once, PostgreSQL's planner expected a status to be
    spread evenly over time and walked the newest-first index filtering, through 27,000
    rows for "completed" (docs/reads-at-scale.md).
    """
    page = select(Agreement.id)
    if filters.status:
        page = page.where(Agreement.status == filters.status)
    if filters.kind:
        page = page.where(Agreement.kind == filters.kind)
    if filters.officer_id:
        page = page.where(Agreement.officer_id == filters.officer_id)
    if filters.country:
        page = page.where(
            Agreement.id.in_(
                select(AgreementParty.agreement_id).where(AgreementParty.country == filters.country)
            )
        )
    if filters.text:
        page = page.where(matches_text(filters.text, Agreement.title, Agreement.summary))
    if cursor is not None:
        created_at, last_id = decode_keyset(cursor)
        page = page.where(
            after_keyset(Agreement.created_at, Agreement.id, created_at, last_id, descending=True)
        )
    newest_first = (Agreement.created_at.desc(), Agreement.id.desc())
    chosen = page.order_by(*newest_first).limit(limit + 1).subquery("page")
    stmt = (
        select(Agreement, User.name)
        .join(chosen, chosen.c.id == Agreement.id)
        .join(User, User.id == Agreement.officer_id)
        .order_by(*newest_first)
        .options(
            # Only what a summary shows: the documents (terms, signatories, ...) stay behind.
            load_only(*_SUMMARY_COLUMNS, raiseload=True),
            selectinload(Agreement.parties),
        )
    )
    rows = (await session.execute(stmt)).all()
    now = utcnow()
    items = [AgreementSummary(**_summary_fields(a, name, now)) for a, name in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = items[-1]
        next_cursor = encode_cursor(last.created_at.isoformat(), last.id)
    return items, next_cursor


async def agreement_events(
    session: AsyncSession, agreement_id: str, *, after_seq: int = 0, limit: int | None
) -> list[EventOut]:
    """The timeline after `after_seq`, in order; `limit=None` reads all of it."""
    rows = await session.execute(
        select(AgreementEvent, User.name)
        .outerjoin(User, User.id == AgreementEvent.actor_id)
        .where(AgreementEvent.agreement_id == agreement_id, AgreementEvent.seq > after_seq)
        .order_by(AgreementEvent.seq)
        .limit(limit)
    )
    return [
        EventOut(
            seq=event.seq,
            type=event.type,
            actor=PersonRef(id=event.actor_id, name=name or "") if event.actor_id else None,
            from_status=event.from_status,
            to_status=event.to_status,
            data=event.data,
            at=event.created_at,
        )
        for event, name in rows
    ]
