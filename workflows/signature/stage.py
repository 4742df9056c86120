"""Signature: resolve the signatories, render the document, send the envelope to each
signing order in turn, and hand a fully signed agreement to its term."""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio.exceptions import ActivityError

from workflows.core.activities import call
from workflows.core.commands import CommandRejected, rejected
from workflows.core.documents import StoredDocument
from workflows.core.notices import Event, NoticeKind
from workflows.core.state import Context
from workflows.core.statuses import AgreementStatus, TaskKind, TaskStatus
from workflows.core.tasks import OpenTask, TaskClosing, TaskOpening, done
from workflows.core.transition import Change, Handoff, Step, Timer, decided, decided_for_all
from workflows.signature.messages import (
    DeclineDecision,
    DocumentRequest,
    ResolvedSignatory,
    SignatureRecord,
    SignDecision,
)

RESOLVE_SIGNATORIES = "resolve_signatories"
RENDER_DOCUMENT = "render_document"
ACTIVITIES = (RESOLVE_SIGNATORIES, RENDER_DOCUMENT)


async def begin(ctx: Context, cleared: Change) -> Step:
    """Render the document to sign and send the envelope to the first signatories: the
    change that cleared the agreement, completed."""
    state = ctx.state
    try:
        signatories = await call(
            RESOLVE_SIGNATORIES, state.proposal.signatories, list[ResolvedSignatory]
        )
    except ActivityError as err:
        message = getattr(err.cause, "message", None) or str(err)
        raise rejected(message, CommandRejected.SIGNATORY_UNAVAILABLE) from err
    conditions = cleared.conditions or []
    document = await _render(
        DocumentRequest(
            agreement_id=ctx.start.agreement_id,
            revision=state.revision,
            proposal=state.proposal,
            conditions=conditions,
        )
    )
    expires_at = ctx.now + timedelta(seconds=ctx.start.timings.signature_validity_seconds)
    first = min(s.order for s in signatories)
    openings = [_opening(ctx, s, expires_at) for s in signatories if s.order == first]

    def keep() -> None:
        state.conditions, state.document = conditions, document
        state.signatories, state.signatures = signatories, []
        state.envelope_expires_at = expires_at

    return Step(
        cleared.model_copy(
            update={
                "to_status": AgreementStatus.IN_SIGNATURE,
                "document": document,
                "opens": openings,
                "notices": [ctx.notices.signature_requested(o) for o in openings],
                "data": cleared.data
                | {
                    "document_sha256": document.sha256,
                    "envelope_expires_at": expires_at.isoformat(),
                    "signatories": [
                        {"name": s.name, "on_behalf_of": s.on_behalf_of, "order": s.order}
                        for s in signatories
                    ],
                },
            }
        ),
        commit=keep,
    )


def _opening(ctx: Context, signatory: ResolvedSignatory, due_at: datetime) -> TaskOpening:
    return TaskOpening(
        task_id=ctx.new_id(),
        kind=TaskKind.SIGNATURE,
        step_key=f"signature_{signatory.order}",
        step_name=f"Signature for {signatory.on_behalf_of}"[:200],
        round=ctx.state.revision,
        group_id=None,
        user_id=signatory.user_id,
        approvals_required=1,
        due_at=due_at,
    )


async def _render(request: DocumentRequest) -> StoredDocument:
    return await call(RENDER_DOCUMENT, request, StoredDocument)


def check(ctx: Context, decision: SignDecision | DeclineDecision) -> None:
    """A signature must be given on the document as it is now."""
    if not isinstance(decision, SignDecision):
        return
    current = ctx.state.document.sha256 if ctx.state.document else None
    if decision.document_sha256 != current:
        raise rejected(
            f"the document changed: you signed {decision.document_sha256}, the current one is"
            f" {current}; read it again before you sign",
            CommandRejected.STALE_DOCUMENT,
        )


def decide(ctx: Context, task: OpenTask, decision: SignDecision | DeclineDecision) -> Step:
    state = ctx.state
    opening = task.opening
    if isinstance(decision, DeclineDecision):
        # Back to the officer, who revises; the review then starts again.
        return Step(
            decided_for_all(
                ctx,
                task,
                decision,
                "declined",
                AgreementStatus.CHANGES_REQUESTED,
                Event.DECLINED,
                NoticeKind.CHANGES_REQUESTED,
            ),
            commit=lambda: _end_envelope(ctx),
        )
    signatory = next(s for s in state.signatories if s.user_id == opening.user_id)
    assert state.document is not None
    record = SignatureRecord(
        task_id=opening.task_id,
        user_id=signatory.user_id,
        name=signatory.name,
        email=signatory.email,
        on_behalf_of=signatory.on_behalf_of,
        order=signatory.order,
        signed_at=ctx.now,
        ip_address=decision.ip_address,
        user_agent=decision.user_agent,
        document_sha256=state.document.sha256,
    )
    same_order_open = [
        t
        for t in state.open_tasks.values()
        if t.opening.kind == TaskKind.SIGNATURE and t.opening.task_id != opening.task_id
    ]
    later = sorted({s.order for s in state.signatories if s.order > signatory.order})
    openings: list[TaskOpening] = []
    if not same_order_open and later:
        assert state.envelope_expires_at is not None
        openings = [
            _opening(ctx, s, state.envelope_expires_at)
            for s in state.signatories
            if s.order == later[0]
        ]
    complete = len(state.signatures) + 1 == len(state.signatories)

    def keep() -> None:
        # The envelope stays until the term starts (its timer is part of recorded runs).
        state.signatures.append(record)

    return Step(
        decided(
            task,
            decision,
            "signed",
            AgreementStatus.IN_SIGNATURE,
            data={"on_behalf_of": signatory.on_behalf_of, "order": signatory.order},
            closes=done(opening.task_id, "sign"),
            signatures=[record],
            opens=openings,
            notices=[ctx.notices.signature_requested(o) for o in openings],
        ),
        commit=keep,
        then=Handoff.TERM if complete else None,
    )


async def signed_copy(ctx: Context, effective_at: datetime) -> StoredDocument:
    """The document with its signature page, rendered once every signature is in."""
    state = ctx.state
    return await _render(
        DocumentRequest(
            agreement_id=ctx.start.agreement_id,
            revision=state.revision,
            proposal=state.proposal,
            conditions=state.conditions,
            effective_at=effective_at,
            signatures=state.signatures,
        )
    )


def timers(ctx: Context) -> list[Timer]:
    """The envelope expires at its date if not every signatory has signed."""
    state = ctx.state
    if state.status == AgreementStatus.IN_SIGNATURE and state.envelope_expires_at:
        return [Timer(state.envelope_expires_at, lambda: expired(ctx))]
    return []


def expired(ctx: Context) -> Step:
    state = ctx.state
    signed, signatories = len(state.signatures), len(state.signatories)
    return Step(
        Change(
            event_type="envelope_expired",
            to_status=AgreementStatus.EXPIRED,
            closes=[
                TaskClosing(task_id=task_id, status=TaskStatus.EXPIRED)
                for task_id in state.open_tasks
            ],
            notices=[ctx.notices.to_officer(Event.EXPIRED, signed=signed, signatories=signatories)],
            data={"signed": signed, "signatories": signatories},
        ),
        commit=lambda: _end_envelope(ctx),
    )


def _end_envelope(ctx: Context) -> None:
    ctx.state.signatures, ctx.state.envelope_expires_at = [], None
