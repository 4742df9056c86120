"""The term: an agreement in force opens its obligations as report tasks, flags those
overdue, takes reports, and completes at the end of its term."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

from workflows.core.documents import StoredDocument
from workflows.core.notices import Event
from workflows.core.state import Context
from workflows.core.statuses import AgreementStatus, TaskKind
from workflows.core.tasks import OpenTask, TaskOpening, close_all, done
from workflows.core.transition import Change, Step, Timer, decided
from workflows.term.messages import Obligation, ObligationStatus, ReportDecision
from workflows.term.obligations import add_months, obligations_for

ACTIVITIES: tuple[str, ...] = ()  # the term calls none: its changes are the workflow's own


def activate(ctx: Context, signed: StoredDocument, effective_at: datetime) -> Step:
    """Every signature is in: the term starts with the signed copy."""
    state = ctx.state
    terms = state.proposal.terms
    ends_at = add_months(effective_at, terms.term_months)
    obligations = obligations_for(
        terms,
        effective_at,
        timedelta(seconds=ctx.start.timings.report_lead_seconds),
        ctx.new_id,
    )

    def keep() -> None:
        state.document, state.effective_at, state.ends_at = signed, effective_at, ends_at
        state.obligations = obligations
        state.envelope_expires_at = None  # the signed copy closes the envelope

    return Step(
        Change(
            event_type="activated",
            to_status=AgreementStatus.ACTIVE,
            document=signed,
            effective_at=effective_at,
            ends_at=ends_at,
            obligations=obligations,
            licenses="grant",
            notices=[ctx.notices.to_officer(Event.ACTIVE)],
            data={
                "effective_at": effective_at.isoformat(),
                "ends_at": ends_at.isoformat(),
                "document_sha256": signed.sha256,
                "obligations": len(obligations),
            },
        ),
        commit=keep,
    )


def timers(ctx: Context) -> list[Timer]:
    """Obligations open their tasks and fall overdue; the term ends."""
    state = ctx.state
    if state.status != AgreementStatus.ACTIVE:
        return []
    found: list[Timer] = []
    for obligation in state.obligations:
        if obligation.status == ObligationStatus.PENDING:
            found.append(Timer(obligation.opens_at, partial(open_obligation, ctx, obligation)))
        elif obligation.status == ObligationStatus.OPEN and not obligation.overdue:
            found.append(Timer(obligation.due_at, partial(flag_overdue, ctx, obligation)))
    if state.ends_at is not None:
        found.append(Timer(state.ends_at, lambda: complete(ctx)))
    return found


def open_obligation(ctx: Context, obligation: Obligation) -> Step:
    opening = TaskOpening(
        task_id=ctx.new_id(),
        kind=TaskKind.REPORT,
        step_key=str(obligation.kind),
        step_name=obligation.name[:200],
        round=ctx.state.revision,
        group_id=None,
        user_id=ctx.start.officer_id,
        approvals_required=1,
        due_at=obligation.due_at,
    )
    opened = obligation.model_copy(
        update={"status": ObligationStatus.OPEN, "task_id": opening.task_id}
    )
    return Step(
        Change(
            event_type="obligation_opened",
            to_status=ctx.status,
            opens=[opening],
            obligations=[opened],
            notices=[ctx.notices.assigned(opening)],
            data={
                "obligation_id": obligation.id,
                "name": obligation.name,
                "task_id": opening.task_id,
            },
        ),
        commit=lambda: keep(ctx, [opened]),
    )


def flag_overdue(ctx: Context, obligation: Obligation) -> Step:
    flagged = obligation.model_copy(update={"overdue": True})
    return Step(
        Change(
            event_type="obligation_overdue",
            to_status=ctx.status,
            obligations=[flagged],
            notices=[
                ctx.notices.obligation_overdue(
                    obligation.name, obligation.task_id, obligation.due_at
                )
            ],
            data={"obligation_id": obligation.id, "name": obligation.name},
        ),
        commit=lambda: keep(ctx, [flagged]),
    )


def decide(ctx: Context, task: OpenTask, decision: ReportDecision) -> Step:
    """A report meets the obligation its task was opened for."""
    opening = task.opening
    obligation = next(o for o in ctx.state.obligations if o.task_id == opening.task_id)
    report = decision.report
    met = obligation.model_copy(
        update={"status": ObligationStatus.MET, "met_at": ctx.now, "report": report}
    )
    income = report.income if report is not None else None
    return Step(
        decided(
            task,
            decision,
            "report_submitted",
            ctx.status,
            data={
                "obligation_id": obligation.id,
                "name": obligation.name,
                "late": ctx.now > obligation.due_at,
                "income": str(income) if income is not None else None,
            },
            closes=done(opening.task_id, "submit"),
            obligations=[met],
        ),
        commit=lambda: keep(ctx, [met]),
    )


def complete(ctx: Context) -> Step:
    """The end of the term: obligations still owed are missed, licenses end."""
    state = ctx.state
    settled = unmet(ctx, ObligationStatus.MISSED)
    met = sum(o.status == ObligationStatus.MET for o in state.obligations)
    return Step(
        Change(
            event_type="completed",
            to_status=AgreementStatus.COMPLETED,
            closes=close_all(state.open_tasks),
            obligations=settled,
            licenses="end",
            notices=[ctx.notices.to_officer(Event.COMPLETED)],
            data={"met": met, "obligations": len(state.obligations)},
        ),
        commit=lambda: keep(ctx, settled),
    )


def unmet(ctx: Context, status: ObligationStatus) -> list[Obligation]:
    """Obligations not met when the agreement ends, with the status they end in."""
    return [
        o.model_copy(update={"status": status})
        for o in ctx.state.obligations
        if o.status in (ObligationStatus.PENDING, ObligationStatus.OPEN)
    ]


def keep(ctx: Context, changed: list[Obligation]) -> None:
    """Replace obligations by id with their changed copies."""
    by_id = {o.id: o for o in changed}
    ctx.state.obligations = [by_id.get(o.id, o) for o in ctx.state.obligations]
