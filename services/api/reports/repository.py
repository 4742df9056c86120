"""Queries behind one agreement's status report."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.agreements.schemas import PersonRef
from services.api.reports.schemas import (
    AgreementStatusReport,
    FindingLine,
    ObligationLine,
    SignatureLine,
    StageTime,
    TimelineEntry,
)
from services.api.tasks.repository import open_tasks_of
from services.api.term.repository import obligation_rows
from services.reports.figures import stage_days, stage_of
from services.store import (
    Agreement,
    AgreementEvent,
    Finding,
    Signature,
    Task,
    User,
)


async def status_report(
    session: AsyncSession, agreement: Agreement, now: datetime
) -> AgreementStatusReport:
    """The report of an agreement the caller may read, as of `now`."""
    officer_name = await session.scalar(select(User.name).where(User.id == agreement.officer_id))
    timeline = await _timeline(session, agreement.id)
    stage = stage_of(agreement.status)
    open_tasks = await open_tasks_of(session, agreement.id)
    return AgreementStatusReport(
        id=agreement.id,
        title=agreement.title,
        kind=agreement.kind,
        status=agreement.status,
        stage=stage,
        officer=PersonRef(id=agreement.officer_id, name=officer_name or ""),
        effective_at=agreement.effective_at,
        ends_at=agreement.ends_at,
        timeline=timeline,
        stage_days=stage_times(((entry.to_status, entry.at) for entry in timeline), stage, now),
        open_tasks=open_tasks,
        overdue_tasks=[task for task in open_tasks if task.due_at < now],
        findings=await _findings(session, agreement.id),
        obligations=await _obligations(session, agreement.id),
        signatures=await signatures_of(session, agreement.id, agreement.revision),
        generated_at=now,
    )


def stage_times(
    changes: Iterable[tuple[str, datetime]], stage: str, now: datetime
) -> list[StageTime]:
    """Days in each stage visited, from the agreement's (status, when) changes in order."""
    return [
        StageTime(stage=name, days=round(value, 2), current=name == stage)
        for name, value in stage_days(changes, now).items()
    ]


async def _timeline(session: AsyncSession, agreement_id: str) -> list[TimelineEntry]:
    rows = await session.execute(
        select(
            AgreementEvent.seq,
            AgreementEvent.type,
            User.name,
            AgreementEvent.from_status,
            AgreementEvent.to_status,
            AgreementEvent.created_at,
        )
        .outerjoin(User, User.id == AgreementEvent.actor_id)
        .where(AgreementEvent.agreement_id == agreement_id)
        .order_by(AgreementEvent.seq)
    )
    return [
        TimelineEntry(seq=seq, type=type_, actor=actor, from_status=before, to_status=after, at=at)
        for seq, type_, actor, before, after, at in rows
    ]


async def _findings(session: AsyncSession, agreement_id: str) -> list[FindingLine]:
    rows = await session.scalars(
        select(Finding)
        .where(Finding.agreement_id == agreement_id)
        .order_by(Finding.round, Finding.created_at, Finding.id)
    )
    return [
        FindingLine(
            round=f.round,
            kind=f.kind,
            severity=f.severity,
            subject=f.subject,
            summary=f.summary,
            status=f.status,
        )
        for f in rows
    ]


async def _obligations(session: AsyncSession, agreement_id: str) -> list[ObligationLine]:
    return [
        ObligationLine(
            kind=o.kind,
            name=o.name,
            due_at=o.due_at,
            status=o.status,
            overdue=o.overdue,
            met_at=o.met_at,
            income=o.income,
            units=o.units,
            sublicenses=o.sublicenses,
        )
        for o in await obligation_rows(session, agreement_id)
    ]


async def signatures_of(
    session: AsyncSession, agreement_id: str, revision: int
) -> list[SignatureLine]:
    """The signatures of the current revision's envelope: one declined earlier is history
    (the timeline keeps it), not a signature on the agreement."""
    rows = await session.execute(
        select(Signature, User.name)
        .join(User, User.id == Signature.user_id)
        .join(Task, Task.id == Signature.task_id)
        .where(Signature.agreement_id == agreement_id, Task.round == revision)
        .order_by(Signature.order, Signature.signed_at)
    )
    return [
        SignatureLine(
            signer=PersonRef(id=s.user_id, name=name),
            on_behalf_of=s.on_behalf_of,
            order=s.order,
            signed_at=s.signed_at,
        )
        for s, name in rows
    ]
