"""An agreement's obligations, as the term endpoints, tasks, reports and the web show them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.term.schemas import ObligationOut, ReportOut
from services.store import Obligation


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
