"""Writes one workflow transition to SQL: agreement, tasks, votes, event, outbox, atomically."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.store import (
    Agreement,
    AgreementEvent,
    AgreementParty,
    Group,
    GroupMember,
    IpAsset,
    IpLicense,
    Notification,
    Obligation,
    Role,
    Signature,
    Task,
    TaskDecision,
    User,
)
from services.workers.clearance.projection import apply_clearance
from workflows.messages import (
    AgreementKind,
    AgreementStart,
    Notice,
    ObligationStatus,
    PartyRole,
    Proposal,
    TaskStatus,
    Transition,
)

# Kinds whose activation grants rights on the assets: recorded in the registry, so a later
# agreement on the same assets sees them in its conflict check.
_GRANTING_KINDS = {AgreementKind.LICENSE, AgreementKind.OPTION, AgreementKind.TECHNOLOGY_TRANSFER}


async def transition_already_applied(session: AsyncSession, key: str) -> bool:
    found = await session.scalar(select(AgreementEvent.id).where(AgreementEvent.key == key))
    return found is not None


async def notification_ids_for(session: AsyncSession, key: str) -> list[str]:
    rows = await session.scalars(
        select(Notification.id).where(Notification.event_key == key).order_by(Notification.id)
    )
    return list(rows)


async def apply_transition(session: AsyncSession, t: Transition) -> list[str]:
    """Stage every row the transition changes; the caller commits."""
    if t.create is not None:
        session.add(_new_agreement(t.create, t))
        _add_parties(session, t.agreement_id, t.create.proposal)
        await session.flush()
    agreement = await session.get_one(Agreement, t.agreement_id)
    if t.revised is not None:
        _revise(agreement, t.revised)
        await session.execute(
            delete(AgreementParty).where(AgreementParty.agreement_id == t.agreement_id)
        )
        _add_parties(session, t.agreement_id, t.revised)
        agreement.revision = t.revision_number or agreement.revision + 1
    if "policy_version" in t.data:
        agreement.policy_version = t.data["policy_version"]
    if agreement.status != t.to_status:
        agreement.status_changed_at = t.at
    agreement.status = t.to_status
    agreement.updated_at = t.at
    agreement.last_seq = t.seq

    for opening in t.opens:
        session.add(
            Task(
                id=opening.task_id,
                agreement_id=t.agreement_id,
                kind=opening.kind,
                step_key=opening.step_key,
                step_name=opening.step_name,
                round=opening.round,
                assignee_user_id=opening.user_id,
                assignee_group_id=opening.group_id,
                approvals_required=opening.approvals_required,
                status=TaskStatus.OPEN,
                due_at=opening.due_at,
                created_at=t.at,
            )
        )
    for assignment in t.reassigns:
        current_due = await session.scalar(select(Task.due_at).where(Task.id == assignment.task_id))
        moved = current_due != assignment.due_at
        await session.execute(
            update(Task)
            .where(Task.id == assignment.task_id, Task.status == TaskStatus.OPEN)
            .values(
                assignee_user_id=assignment.user_id,
                assignee_group_id=assignment.group_id,
                due_at=assignment.due_at,
                # A new due date starts the reminders afresh.
                **({"reminded_at": None, "escalated_at": None} if moved else {}),
            )
        )
    for vote in t.votes:
        session.add(
            TaskDecision(
                task_id=vote.task_id,
                actor_id=vote.actor_id,
                outcome=vote.outcome,
                comment=vote.comment,
                data=vote.data,
                decided_at=t.at,
            )
        )
    for closing in t.closes:
        await session.execute(
            update(Task)
            .where(Task.id == closing.task_id, Task.status == TaskStatus.OPEN)
            .values(status=closing.status, outcome=closing.outcome, closed_at=t.at)
        )
    if t.reminded_task_id:
        await session.execute(
            update(Task).where(Task.id == t.reminded_task_id).values(reminded_at=t.at)
        )
    if t.escalated_task_id:
        await session.execute(
            update(Task).where(Task.id == t.escalated_task_id).values(escalated_at=t.at)
        )
    await apply_clearance(session, agreement, t)
    await _apply_signature(session, agreement, t)
    await _apply_obligations(session, agreement, t)
    session.add(
        AgreementEvent(
            agreement_id=t.agreement_id,
            seq=t.seq,
            key=t.key,
            type=t.event_type,
            actor_id=t.actor_id,
            from_status=t.from_status,
            to_status=t.to_status,
            data=t.data,
            created_at=t.at,
        )
    )
    await session.flush()
    notification_ids: list[str] = []
    for notice in t.notices:
        for recipient in await _audience(session, agreement, notice):
            notification = Notification(
                id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{t.key}/{notice.kind}/{recipient.id}")),
                event_key=t.key,
                agreement_id=t.agreement_id,
                task_id=notice.task_id,
                recipient_id=recipient.id,
                recipient_email=recipient.email,
                kind=notice.kind,
                subject=notice.subject,
                body=notice.body,
                created_at=t.at,
            )
            session.add(notification)
            notification_ids.append(notification.id)
    return sorted(notification_ids)


async def _apply_signature(session: AsyncSession, agreement: Agreement, t: Transition) -> None:
    if t.document is not None:
        agreement.document_id = t.document.document_id
        agreement.document_sha256 = t.document.sha256
    for record in t.signatures:
        session.add(
            Signature(
                agreement_id=t.agreement_id,
                task_id=record.task_id,
                user_id=record.user_id,
                on_behalf_of=record.on_behalf_of,
                order=record.order,
                document_sha256=record.document_sha256,
                ip_address=record.ip_address,
                user_agent=record.user_agent,
                signed_at=record.signed_at,
            )
        )
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


async def _audience(session: AsyncSession, agreement: Agreement, notice: Notice) -> list[User]:
    if notice.audience == "officer":
        return [await session.get_one(User, agreement.officer_id)]
    task = await session.get_one(Task, notice.task_id) if notice.task_id else None
    if task is None:
        return []
    if notice.audience == "assignees":
        if task.assignee_user_id:
            return [await session.get_one(User, task.assignee_user_id)]
        rows = await session.scalars(
            select(User)
            .join(GroupMember, GroupMember.user_id == User.id)
            .where(GroupMember.group_id == task.assignee_group_id, User.active.is_(True))
            .order_by(User.email)
        )
        return list(rows)
    # escalation: the group's lead, or every admin when the group has none
    lead_id = (
        await session.scalar(select(Group.lead_id).where(Group.id == task.assignee_group_id))
        if task.assignee_group_id
        else None
    )
    if lead_id:
        return [await session.get_one(User, lead_id)]
    admins = await session.scalars(
        select(User).where(User.role == Role.ADMIN, User.active.is_(True)).order_by(User.email)
    )
    return list(admins)


def _new_agreement(start: AgreementStart, t: Transition) -> Agreement:
    proposal = start.proposal
    agreement = Agreement(
        id=start.agreement_id,
        workflow_id=t.key.rsplit("/", 1)[0],
        officer_id=start.officer_id,
        status=t.to_status,
        idempotency_key=start.idempotency_key,
        request_hash=start.request_hash,
        revision=0,
        last_seq=0,
        created_at=t.at,
        updated_at=t.at,
        status_changed_at=t.at,
    )
    _revise(agreement, proposal)
    return agreement


def _revise(agreement: Agreement, proposal: Proposal) -> None:
    agreement.title = proposal.title
    agreement.kind = proposal.kind
    agreement.summary = proposal.summary
    agreement.ip_assets = list(proposal.ip_assets)
    agreement.terms = proposal.terms.model_dump(mode="json")
    agreement.signatories = [s.model_dump(mode="json") for s in proposal.signatories]
    agreement.export_control = (
        proposal.export_control.model_dump(mode="json") if proposal.export_control else None
    )
    agreement.estimated_value = proposal.estimated_value
    agreement.currency = proposal.currency


def _add_parties(session: AsyncSession, agreement_id: str, proposal: Proposal) -> None:
    for position, party in enumerate(proposal.parties):
        session.add(
            AgreementParty(
                agreement_id=agreement_id,
                position=position,
                name=party.name,
                country=party.country,
                role=party.role,
            )
        )
