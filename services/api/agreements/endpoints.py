"""Proposals and agreements: submit, read, revise, withdraw."""

from __future__ import annotations

import hashlib
import uuid
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Query, Response
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.agreements import repository
from services.api.agreements.schemas import (
    AgreementDetail,
    AgreementPage,
    EventOut,
    Termination,
    Withdrawal,
)
from services.api.auth import current_user, require_role
from services.api.commands import AgreementCommands, agreement_commands
from services.api.deps import get_session, get_settings_dep
from services.api.errors import (
    COMMAND_ERRORS,
    Conflict,
    Forbidden,
    NotFound,
    Unavailable,
    documented,
    invalid_field,
)
from services.api.filters import NO_NUL
from services.config import Settings
from services.store import Agreement, Role, User, signing_users
from workflows.core.commands import RevisionCommand, TerminationCommand, WithdrawalCommand
from workflows.core.proposal import AgreementKind, Proposal, ProposalRevision, Signatory
from workflows.core.state import AgreementStart, Timings
from workflows.core.statuses import AgreementStatus

router = APIRouter(prefix="/v1", tags=["agreements"], responses=documented(401))

# Submissions with the same officer and Idempotency-Key map to the same agreement id, so
# concurrent retries meet at one workflow id, whose idempotent "submit" answers them all.
_IDEMPOTENCY_NAMESPACE = uuid.UUID("0b7f3c1e-6f0d-4a8e-9d6c-5a0c1f4e2b77")


@router.post(
    "/proposals",
    status_code=201,
    response_model=AgreementDetail,
    responses=documented(
        403, 409, 503, 504, s409="The Idempotency-Key was used for a different proposal"
    ),
)
async def submit_proposal(
    proposal: Proposal,
    response: Response,
    idempotency_key: Annotated[str | None, Header(min_length=1, max_length=200)] = None,
    user: User = Depends(require_role(Role.PROGRAM_OFFICER, Role.ADMIN)),
    session: AsyncSession = Depends(get_session),
    settings: Settings = Depends(get_settings_dep),
    commands: AgreementCommands = Depends(agreement_commands),
) -> AgreementDetail:
    """Submit a proposal; it is stored and its review starts in one step."""
    request_hash = hashlib.sha256(proposal.model_dump_json().encode()).hexdigest()
    await _check_signatories(session, proposal.signatories)
    if idempotency_key is not None:
        agreement_id = str(uuid.uuid5(_IDEMPOTENCY_NAMESPACE, f"{user.id}/{idempotency_key}"))
        earlier = await repository.by_idempotency_key(session, user.id, idempotency_key)
        if earlier is not None:
            return await _replay(session, earlier, request_hash, response)
    else:
        agreement_id = str(uuid.uuid4())
    start = AgreementStart(
        agreement_id=agreement_id,
        officer_id=user.id,
        proposal=proposal,
        timings=timings_from(settings),
        idempotency_key=idempotency_key,
        request_hash=request_hash,
    )
    await commands.submit(start)
    stored = await repository.get_agreement(session, agreement_id)
    if stored is None:
        raise Unavailable(
            "the agreement was not stored; submit again with the same Idempotency-Key"
        )
    if stored.request_hash != request_hash:
        raise Conflict("this Idempotency-Key was used for a different proposal")
    return await _detail_or_404(session, agreement_id)


def timings_from(settings: Settings) -> Timings:
    return Timings(
        reminder_share=settings.reminder_share,
        escalation_grace_seconds=settings.escalation_grace_seconds,
        clearance_sla_seconds=settings.clearance_sla_hours * 3600,
        signature_validity_seconds=settings.signature_validity_days * 86400,
        report_lead_seconds=settings.report_lead_days * 86400,
        history_limit=settings.history_limit,
    )


async def _check_signatories(
    session: AsyncSession, signatories: list[Signatory], field: str = "signatories"
) -> None:
    """Every named signatory must be an active user who may sign: 422 names the one who isn't."""
    may_sign = await signing_users(session, [s.email for s in signatories])
    for index, signatory in enumerate(signatories):
        if may_sign[signatory.email] is None:
            raise invalid_field(
                ("body", field, index, "email"),
                "no active signatory user with this e-mail",
                signatory.email,
            )


async def _replay(
    session: AsyncSession, earlier: Agreement, request_hash: str, response: Response
) -> AgreementDetail:
    if earlier.request_hash != request_hash:
        raise Conflict("this Idempotency-Key was used for a different proposal")
    response.headers["Idempotent-Replayed"] = "true"
    return await _detail_or_404(session, earlier.id)


@router.get("/agreements", response_model=AgreementPage, responses=documented(403))
async def list_agreements(
    status: AgreementStatus | None = None,
    kind: AgreementKind | None = None,
    country: Annotated[str | None, Query(pattern=r"^[A-Za-z]{2}$")] = None,
    officer_id: UUID | None = None,
    q: Annotated[
        str | None, Query(min_length=1, max_length=200, pattern=NO_NUL, description="Free text")
    ] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    user: User = Depends(current_user),
    session: AsyncSession = Depends(get_session),
) -> AgreementPage:
    """Agreements, newest first; program officers see their own."""
    if user.role == Role.PROGRAM_OFFICER:
        if officer_id is not None and str(officer_id) != user.id:
            raise Forbidden("program officers may list only their own agreements")
        officer_id = UUID(user.id)
    filters = repository.AgreementFilters(
        status=status,
        kind=kind,
        country=country.upper() if country else None,
        officer_id=str(officer_id) if officer_id else None,
        text=q,
    )
    items, next_cursor = await repository.list_agreements(
        session, filters, cursor=cursor, limit=limit
    )
    return AgreementPage(items=items, next_cursor=next_cursor)


@router.get(
    "/agreements/{agreement_id}", response_model=AgreementDetail, responses=documented(403, 404)
)
async def get_agreement(
    agreement_id: UUID,
    user: User = Depends(current_user),
    session: AsyncSession = Depends(get_session),
) -> AgreementDetail:
    # The agreement the read check loaded is the one shown: it is not read twice.
    return await repository.detail_of(session, await readable(session, user, agreement_id))


@router.get(
    "/agreements/{agreement_id}/events",
    response_model=list[EventOut],
    responses=documented(403, 404),
)
async def list_events(
    agreement_id: UUID,
    # Bounded by the INTEGER column it is compared with: a larger one is a 422, not a 500.
    after_seq: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
    user: User = Depends(current_user),
    session: AsyncSession = Depends(get_session),
) -> list[EventOut]:
    """The append-only timeline: who did what, when, from which status to which."""
    await readable(session, user, agreement_id)
    return await repository.agreement_events(
        session, str(agreement_id), after_seq=after_seq, limit=limit
    )


@router.post(
    "/agreements/{agreement_id}/revisions",
    response_model=AgreementDetail,
    responses=documented(*COMMAND_ERRORS),
)
async def revise_agreement(
    agreement_id: UUID,
    revision: ProposalRevision,
    user: User = Depends(current_user),
    session: AsyncSession = Depends(get_session),
    commands: AgreementCommands = Depends(agreement_commands),
) -> AgreementDetail:
    """Revise a proposal returned for changes; its review starts again."""
    agreement = await changeable(session, user, agreement_id)
    ensure_revisable(agreement)
    if revision.signatories is not None:
        await _check_signatories(session, revision.signatories)
    await commands.revise(str(agreement_id), RevisionCommand(actor_id=user.id, revision=revision))
    return await _detail_or_404(session, str(agreement_id))


@router.post(
    "/agreements/{agreement_id}/withdrawal",
    response_model=AgreementDetail,
    responses=documented(*COMMAND_ERRORS),
)
async def withdraw_agreement(
    agreement_id: UUID,
    withdrawal: Withdrawal,
    user: User = Depends(current_user),
    session: AsyncSession = Depends(get_session),
    commands: AgreementCommands = Depends(agreement_commands),
) -> AgreementDetail:
    """Withdraw an agreement at any time before signature."""
    agreement = await changeable(session, user, agreement_id)
    if not AgreementStatus(agreement.status).may_withdraw:
        raise Conflict(f"agreement is {agreement.status}; it can no longer be withdrawn")
    await commands.withdraw(
        str(agreement_id), WithdrawalCommand(actor_id=user.id, reason=withdrawal.reason)
    )
    return await _detail_or_404(session, str(agreement_id))


@router.post(
    "/agreements/{agreement_id}/termination",
    response_model=AgreementDetail,
    responses=documented(*COMMAND_ERRORS, s409="The agreement has already ended"),
)
async def terminate_agreement(
    agreement_id: UUID,
    termination: Termination,
    user: User = Depends(require_role(Role.ADMIN)),
    session: AsyncSession = Depends(get_session),
    commands: AgreementCommands = Depends(agreement_commands),
) -> AgreementDetail:
    """End an agreement at any stage, with a reason (admins only)."""
    agreement = await readable(session, user, agreement_id)
    if AgreementStatus(agreement.status).is_terminal:
        raise Conflict(f"agreement is {agreement.status}; it has already ended")
    await commands.terminate(
        str(agreement_id), TerminationCommand(actor_id=user.id, reason=termination.reason)
    )
    return await _detail_or_404(session, str(agreement_id))


async def readable(session: AsyncSession, user: User, agreement_id: UUID) -> Agreement:
    agreement = await repository.get_agreement(session, str(agreement_id))
    if agreement is None:
        raise NotFound(f"no agreement {agreement_id}")
    if not repository.may_read(user, agreement):
        raise Forbidden("program officers may read only their own agreements")
    return agreement


def ensure_revisable(agreement: Agreement) -> None:
    """Only a proposal returned for changes can be revised."""
    if agreement.status != AgreementStatus.CHANGES_REQUESTED:
        raise Conflict(f"agreement is {agreement.status}; only changes_requested can be revised")


async def changeable(session: AsyncSession, user: User, agreement_id: UUID) -> Agreement:
    agreement = await readable(session, user, agreement_id)
    if not repository.may_change(user, agreement):
        raise Forbidden("only the agreement's officer or an admin may change it")
    return agreement


async def _detail_or_404(session: AsyncSession, agreement_id: str) -> AgreementDetail:
    detail = await repository.agreement_detail(session, agreement_id)
    if detail is None:
        raise NotFound(f"no agreement {agreement_id}")
    return detail
