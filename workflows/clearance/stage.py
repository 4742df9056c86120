"""IP clearance: run the automatic checks, open counsel's task, take dismissals of false
positives, and hand a cleared agreement to signature."""

from __future__ import annotations

from datetime import timedelta

from workflows.clearance.messages import (
    ClearanceCheck,
    ClearanceDecision,
    ClearanceOutcome,
    ClearanceReport,
    ConditionalClearance,
    Finding,
    FindingDismissal,
    FindingKind,
    Severity,
)
from workflows.core.activities import call
from workflows.core.commands import CommandRejected, rejected, require_status
from workflows.core.notices import Event
from workflows.core.state import Context
from workflows.core.statuses import AgreementStatus, TaskKind
from workflows.core.tasks import OpenTask, TaskOpening, done
from workflows.core.transition import Change, Handoff, Step, decided, decided_for_all

RUN_CLEARANCE_CHECKS = "run_clearance_checks"
ACTIVITIES = (RUN_CLEARANCE_CHECKS,)


async def begin(ctx: Context) -> Step:
    """Run the automatic checks, record every finding, and open counsel's task."""
    report = await call(
        RUN_CLEARANCE_CHECKS,
        ClearanceCheck(agreement_id=ctx.start.agreement_id, proposal=ctx.state.proposal),
        ClearanceReport,
    )
    findings = [f.model_copy(update={"id": ctx.new_id()}) for f in report.findings]
    opening = TaskOpening(
        task_id=ctx.new_id(),
        kind=TaskKind.IP_CLEARANCE,
        step_key="ip_clearance",
        step_name="IP clearance",
        round=ctx.state.revision,
        group_id=report.counsel_group_id,
        approvals_required=1,
        due_at=ctx.now + timedelta(seconds=ctx.start.timings.clearance_sla_seconds),
    )
    by_severity: dict[str, int] = {}
    for finding in findings:
        by_severity[finding.severity] = by_severity.get(finding.severity, 0) + 1

    def keep() -> None:
        ctx.state.findings = {f.id: f for f in findings if f.id}

    return Step(
        Change(
            event_type="ip_checks_completed",
            to_status=AgreementStatus.IP_CLEARANCE,
            findings=findings,
            opens=[opening],
            notices=[ctx.notices.assigned(opening)],
            data={
                "findings": len(findings),
                "by_severity": by_severity,
                "kinds": sorted({f.kind for f in findings}),
                "screening_list": report.screening_list,
                "task_id": opening.task_id,
            },
        ),
        commit=keep,
    )


def check(ctx: Context, decision: ClearanceDecision | ConditionalClearance) -> None:
    """Plain clearance is refused while a critical finding is open."""
    if decision.outcome != ClearanceOutcome.CLEAR:
        return
    critical = sorted(
        {f.kind for f in ctx.state.findings.values() if f.severity == Severity.CRITICAL}
    )
    if critical:
        raise rejected(
            f"critical findings are open ({', '.join(critical)}): clear with"
            " conditions that address them, dismiss a false positive, or block",
            CommandRejected.CRITICAL_FINDINGS,
        )


def decide(
    ctx: Context, task: OpenTask, decision: ClearanceDecision | ConditionalClearance
) -> Step:
    task_id = task.opening.task_id
    if decision.outcome == ClearanceOutcome.BLOCK:
        return Step(
            decided_for_all(ctx, task, decision, "blocked", AgreementStatus.BLOCKED, Event.BLOCKED)
        )
    conditions = decision.conditions if isinstance(decision, ConditionalClearance) else []
    # The signature stage completes this change with the envelope it sends.
    return Step(
        decided(
            task,
            decision,
            "cleared",
            AgreementStatus.IN_SIGNATURE,
            data={"conditions": conditions},
            closes=done(task_id, decision.outcome),
            conditions=conditions,
        ),
        then=Handoff.SIGNATURE,
    )


def dismissable(ctx: Context, command: FindingDismissal) -> Finding:
    """The open screening hit a dismissal names, or why it cannot be dismissed."""
    require_status(ctx.state.status, AgreementStatus.IP_CLEARANCE, "cleared of findings")
    finding = ctx.state.findings.get(command.finding_id)
    if finding is None or finding.kind != FindingKind.SCREENING_HIT:
        raise rejected(
            "no open screening hit with this id on the agreement", CommandRejected.FINDING_NOT_OPEN
        )
    if finding.screening_entry_id is None:
        raise rejected(
            "this finding names no list entry; it cannot be a false positive",
            CommandRejected.FINDING_NOT_OPEN,
        )
    return finding


def dismiss(ctx: Context, command: FindingDismissal) -> Step:
    """Counsel marks a screening hit a false positive; the pair is remembered."""
    finding = dismissable(ctx, command)

    def keep() -> None:
        del ctx.state.findings[command.finding_id]

    return Step(
        Change(
            event_type="finding_dismissed",
            to_status=ctx.status,
            actor_id=command.actor_id,
            dismissals=[command],
            data={
                "finding_id": command.finding_id,
                "subject": finding.subject,
                "screening_entry_id": finding.screening_entry_id,
                "reason": command.reason,
            },
        ),
        commit=keep,
    )
