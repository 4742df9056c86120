"""Read models shared by the agreement and task endpoints: findings, obligations, documents."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.store import Finding, Obligation


class FindingOut(BaseModel):
    id: str
    round: int
    kind: str
    severity: str
    subject: str
    summary: str
    evidence: dict[str, Any]
    status: str = Field(description="open | dismissed (a screening hit judged a false positive)")
    dismissal_reason: str | None
    dismissed_at: datetime | None
    created_at: datetime


class ReportOut(BaseModel):
    narrative: str | None
    income: Decimal | None
    units: int | None
    sublicenses: int | None
    attachments: list[dict[str, Any]]


class ObligationOut(BaseModel):
    id: str
    kind: str
    name: str
    due_at: datetime
    opens_at: datetime
    status: str = Field(description="pending | open | met | missed | cancelled")
    overdue: bool
    task_id: str | None
    met_at: datetime | None
    report: ReportOut | None


class DocumentRef(BaseModel):
    sha256: str
    url: str


def finding_out(row: Finding) -> FindingOut:
    return FindingOut(
        id=row.id,
        round=row.round,
        kind=row.kind,
        severity=row.severity,
        subject=row.subject,
        summary=row.summary,
        evidence=row.evidence,
        status=row.status,
        dismissal_reason=row.dismissal_reason,
        dismissed_at=row.dismissed_at,
        created_at=row.created_at,
    )


def obligation_out(row: Obligation) -> ObligationOut:
    report = None
    if row.met_at is not None:
        report = ReportOut(
            narrative=row.narrative,
            income=row.income,
            units=row.units,
            sublicenses=row.sublicenses,
            attachments=row.attachments,
        )
    return ObligationOut(
        id=row.id,
        kind=row.kind,
        name=row.name,
        due_at=row.due_at,
        opens_at=row.opens_at,
        status=row.status,
        overdue=row.overdue,
        task_id=row.task_id,
        met_at=row.met_at,
        report=report,
    )


async def findings_of(
    session: AsyncSession, agreement_id: str, round_: int | None = None
) -> list[FindingOut]:
    """An agreement's findings, most severe first; `round_` keeps one clearance round."""
    stmt = select(Finding).where(Finding.agreement_id == agreement_id)
    if round_ is not None:
        stmt = stmt.where(Finding.round == round_)
    rows = await session.scalars(stmt.order_by(Finding.round.desc(), Finding.created_at))
    severity_rank = {"critical": 0, "warning": 1, "info": 2}
    out = [finding_out(row) for row in rows]
    return sorted(out, key=lambda f: (-f.round, severity_rank.get(f.severity, 3), f.subject))


async def obligation_rows(session: AsyncSession, agreement_id: str) -> list[Obligation]:
    """An agreement's obligations by due date."""
    rows = await session.scalars(
        select(Obligation)
        .where(Obligation.agreement_id == agreement_id)
        .order_by(Obligation.due_at, Obligation.id)
    )
    return list(rows)


async def obligations_of(session: AsyncSession, agreement_id: str) -> list[ObligationOut]:
    return [obligation_out(row) for row in await obligation_rows(session, agreement_id)]
