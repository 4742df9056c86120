"""An agreement's findings, as the clearance endpoints, the task view and the web show them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.clearance.schemas import FindingOut
from services.store import Finding


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
