"""The clearance stage's part of a transition: findings, dismissals, conditions."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.store import Agreement, Finding, ScreeningClearance
from workflows.core.transition import Transition


async def apply_clearance(session: AsyncSession, agreement: Agreement, t: Transition) -> None:
    """Findings a check raised, findings counsel dismissed, and counsel's conditions."""
    for finding in t.findings:
        assert finding.id is not None
        session.add(
            Finding(
                id=finding.id,
                agreement_id=t.agreement_id,
                round=agreement.revision,
                kind=finding.kind,
                severity=finding.severity,
                subject=finding.subject[:300],
                summary=finding.summary,
                evidence=finding.evidence,
                screening_entry_id=finding.screening_entry_id,
                party_key=finding.party_key,
                status="open",
                created_at=t.at,
            )
        )
    for dismissal in t.dismissals:
        row = await session.get_one(Finding, dismissal.finding_id)
        row.status = "dismissed"
        row.dismissed_by = dismissal.actor_id
        row.dismissal_reason = dismissal.reason
        row.dismissed_at = t.at
        if row.party_key and row.screening_entry_id:
            remembered = await session.scalar(
                select(ScreeningClearance.id).where(
                    ScreeningClearance.party_key == row.party_key,
                    ScreeningClearance.entry_id == row.screening_entry_id,
                )
            )
            if remembered is None:
                session.add(
                    ScreeningClearance(
                        party_key=row.party_key,
                        entry_id=row.screening_entry_id,
                        reason=dismissal.reason,
                        decided_by=dismissal.actor_id,
                        agreement_id=t.agreement_id,
                        finding_id=row.id,
                        decided_at=t.at,
                    )
                )
    if t.conditions is not None:
        agreement.conditions = list(t.conditions)
