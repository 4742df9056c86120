"""The term's part of a transition: its dates, the licenses it grants, its obligations."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.store import Agreement, AgreementParty, IpAsset, IpLicense, Obligation
from workflows.core.proposal import AgreementKind, PartyRole
from workflows.core.transition import Transition
from workflows.term.messages import ObligationStatus

# Kinds whose activation grants rights on the assets: recorded in the registry, so a later
# agreement on the same assets sees them in its conflict check.
_GRANTING_KINDS = {AgreementKind.LICENSE, AgreementKind.OPTION, AgreementKind.TECHNOLOGY_TRANSFER}


async def apply_term(session: AsyncSession, agreement: Agreement, t: Transition) -> None:
    """When the term runs, the licenses it grants or ends, and the obligations it owes."""
    if t.effective_at is not None:
        agreement.effective_at = t.effective_at
    if t.ends_at is not None:
        agreement.ends_at = t.ends_at
    if t.licenses == "grant" and agreement.kind in _GRANTING_KINDS:
        await _grant_licenses(session, agreement, t)
    elif t.licenses == "end":
        await session.execute(
            update(IpLicense)
            .where(IpLicense.agreement_id == t.agreement_id, IpLicense.active.is_(True))
            .values(active=False, ends_on=t.at.date())
        )
    await _apply_obligations(session, agreement, t)


async def _grant_licenses(session: AsyncSession, agreement: Agreement, t: Transition) -> None:
    parties = list(
        await session.scalars(
            select(AgreementParty)
            .where(AgreementParty.agreement_id == agreement.id)
            .order_by(AgreementParty.position)
        )
    )
    grantees = [p for p in parties if p.role in (PartyRole.LICENSEE, PartyRole.RECIPIENT)]
    licensee = (grantees or [p for p in parties if p.role != PartyRole.LICENSOR] or parties)[0]
    assets = await session.scalars(
        select(IpAsset.id).where(IpAsset.identifier.in_(agreement.ip_assets))
    )
    terms = agreement.terms
    for asset_id in assets:
        session.add(
            IpLicense(
                asset_id=asset_id,
                licensee=licensee.name,
                exclusive=bool(terms.get("exclusive")),
                field_of_use=terms.get("field_of_use") or None,
                territories=list(terms.get("territories") or ["WW"]),
                starts_on=(t.effective_at or t.at).date(),
                ends_on=agreement.ends_at.date() if agreement.ends_at else None,
                active=True,
                agreement_id=agreement.id,
            )
        )


async def _apply_obligations(session: AsyncSession, agreement: Agreement, t: Transition) -> None:
    if not t.obligations:
        return
    for obligation in t.obligations:
        row = await session.get(Obligation, obligation.id)
        if row is None:
            row = Obligation(id=obligation.id, agreement_id=t.agreement_id, attachments=[])
            session.add(row)
        row.kind = obligation.kind
        row.name = obligation.name
        row.due_at = obligation.due_at
        row.opens_at = obligation.opens_at
        row.status = obligation.status
        row.overdue = obligation.overdue
        row.task_id = obligation.task_id
        row.met_at = obligation.met_at
        if obligation.report is not None:
            report = obligation.report
            row.narrative = report.narrative
            row.income = report.income
            row.units = report.units
            row.sublicenses = report.sublicenses
            row.attachments = [a.model_dump() for a in report.attachments]
    await session.flush()
    # The flag on the agreement: obligations that went overdue and were never met.
    agreement.overdue_obligations = (
        await session.scalar(
            select(func.count(Obligation.id)).where(
                Obligation.agreement_id == t.agreement_id,
                Obligation.overdue.is_(True),
                Obligation.status.in_((ObligationStatus.OPEN, ObligationStatus.MISSED)),
            )
        )
        or 0
    )
