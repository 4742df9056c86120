"""Writes one workflow transition to SQL: agreement, tasks, votes, event, outbox, atomically."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.store import (
    Agreement,
    AgreementEvent,
    AgreementParty,
    Group,
    GroupMember,
    Notification,
    Role,
    Task,
    TaskDecision,
    User,
)
from services.workers.clearance.projection import apply_clearance
from services.workers.core.notices import render_notice
from services.workers.signature.projection import apply_signature
from services.workers.term.projection import apply_term
from workflows.core.notices import Notice
from workflows.core.proposal import Proposal
from workflows.core.state import AgreementStart
from workflows.core.statuses import TaskStatus
from workflows.core.transition import Transition


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
    await apply_signature(session, agreement, t)
    await apply_term(session, agreement, t)
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
        subject, body = render_notice(notice)
        for recipient in await _audience(session, agreement, notice):
            notification = Notification(
                id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"{t.key}/{notice.kind}/{recipient.id}")),
                event_key=t.key,
                agreement_id=t.agreement_id,
                task_id=notice.task_id,
                recipient_id=recipient.id,
                recipient_email=recipient.email,
                kind=notice.kind,
                subject=subject,
                body=body,
                created_at=t.at,
            )
            session.add(notification)
            notification_ids.append(notification.id)
    return sorted(notification_ids)


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
