"""The agreement workflow: the only writer of an agreement's state.

It holds the lifecycle (review rounds, votes, revisions, withdrawal) and the timers
for reminders and escalations. Every state change is one `persist_transition`
activity, keyed by workflow id and event number, so a retried write lands once and
the event log has neither duplicates nor gaps.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from workflows.messages import (
        OUTCOMES_BY_KIND,
        AgreementInput,
        AgreementStatus,
        ClearanceCheck,
        ClearanceOutcome,
        ClearanceReport,
        Decision,
        DocumentRequest,
        Finding,
        FindingDismissal,
        FindingKind,
        Notice,
        NoticeKind,
        Obligation,
        ObligationStatus,
        OpenTask,
        PersistedTransition,
        Proposal,
        Reassignment,
        ReportOutcome,
        ReportSubmission,
        ResolvedSignatory,
        ReviewOutcome,
        ReviewPlan,
        RevisionCommand,
        Severity,
        SignatureOutcome,
        SignatureRecord,
        Snapshot,
        StoredDocument,
        TaskClosing,
        TaskKind,
        TaskOpening,
        TaskStatus,
        TerminationCommand,
        Transition,
        UpdateResult,
        WithdrawalCommand,
    )
    from workflows.obligations import add_months, obligations_for

PLAN_REVIEW = "plan_review"
PERSIST_TRANSITION = "persist_transition"
DELIVER_NOTIFICATIONS = "deliver_notifications"
RUN_CLEARANCE_CHECKS = "run_clearance_checks"
RESOLVE_SIGNATORIES = "resolve_signatories"
RENDER_DOCUMENT = "render_document"

# Writes retry until the database is back; only a non-retryable error stops them.
_WRITE_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=30)
)
# How far ahead a reassignment may move a task's due date (the API checks it first).
_MAX_DUE_AHEAD = timedelta(days=366)
_DELIVERY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    maximum_interval=timedelta(minutes=10),
    maximum_attempts=12,
)


class CommandRejected:
    """Update failure types; the API maps each to an HTTP status."""

    NOT_SUBMITTED = "AgreementNotSubmitted"
    TASK_NOT_OPEN = "TaskNotOpen"
    ALREADY_DECIDED = "TaskAlreadyDecided"
    INVALID_OUTCOME = "InvalidOutcome"
    INVALID_ASSIGNEE = "InvalidAssignee"
    WRONG_STATUS = "AgreementStatusConflict"
    SUBMISSION_FAILED = "SubmissionFailed"
    STALE_DOCUMENT = "StaleDocument"
    FINDING_NOT_OPEN = "FindingNotOpen"
    SIGNATORY_UNAVAILABLE = "SignatoryUnavailable"
    INVALID_DATA = "InvalidData"
    CRITICAL_FINDINGS = "CriticalFindingsOpen"


def _plan_data(plan: ReviewPlan) -> dict[str, Any]:
    """The plan as the timeline records it, so readers can show the steps still ahead."""
    return {
        "policy_version": plan.policy_version,
        "steps": [
            {
                "key": step.key,
                "name": step.name,
                "group": step.group_slug,
                "approvals_required": step.approvals_required,
            }
            for step in plan.steps
        ],
    }


@workflow.defn(name="Agreement")
class AgreementWorkflow:
    @workflow.init
    def __init__(self, params: AgreementInput) -> None:
        self._start = params.start
        self._lock = asyncio.Lock()
        self._changed = False
        self._failure: str | None = None
        self._deliveries: list[asyncio.Task[None]] = []
        resume = params.resume or Snapshot(
            status=AgreementStatus.IN_REVIEW,
            seq=0,
            revision=0,
            proposal=params.start.proposal,
            plan=None,
            step_index=0,
            open_tasks={},
        )
        self._status: AgreementStatus | None = resume.status if params.resume else None
        self._seq = resume.seq
        self._revision = resume.revision
        self._proposal = resume.proposal
        self._plan: ReviewPlan | None = resume.plan
        self._step_index = resume.step_index
        self._open: dict[str, OpenTask] = dict(resume.open_tasks)
        # IP clearance: the findings still open (a dismissed one leaves), counsel's conditions.
        self._findings: dict[str, Finding] = dict(resume.findings)
        self._conditions: list[str] = list(resume.conditions)
        # Signature: the document under signature, who signs in which order, who has.
        self._document: StoredDocument | None = resume.document
        self._signatories: list[ResolvedSignatory] = list(resume.signatories)
        self._signatures: list[SignatureRecord] = list(resume.signatures)
        self._envelope_expires_at: datetime | None = resume.envelope_expires_at
        # Active: the term and what it obliges.
        self._effective_at: datetime | None = resume.effective_at
        self._ends_at: datetime | None = resume.ends_at
        self._obligations: list[Obligation] = list(resume.obligations)

    @workflow.run
    async def run(self, params: AgreementInput) -> str:
        if params.resume is None:
            async with self._lock:
                try:
                    await self._submit()
                except ActivityError as err:
                    self._failure = getattr(err.cause, "message", None) or str(err)
                    await workflow.wait_condition(workflow.all_handlers_finished)
                    raise ApplicationError(
                        f"submission failed: {self._failure}",
                        type=CommandRejected.SUBMISSION_FAILED,
                    ) from err
        while self._status is not None and not self._status.is_terminal:
            if self._history_is_long():
                await self._settle()
                if self.status.is_terminal:
                    break
                # Nothing may run between _settle and continue_as_new: no await.
                workflow.continue_as_new(AgreementInput(start=self._start, resume=self._snapshot()))
            await self._sleep_until_next_timer()
        await self._settle()
        return str(self._status)

    # --- updates -------------------------------------------------------------------

    @workflow.update
    async def submit(self) -> UpdateResult:
        """The first update of update-with-start: answers once the agreement is stored."""
        await workflow.wait_condition(lambda: self._status is not None or self._failure is not None)
        if self._failure is not None:
            raise ApplicationError(self._failure, type=CommandRejected.SUBMISSION_FAILED)
        return self._result()

    @workflow.update
    async def decide(self, command: Decision) -> UpdateResult:
        async with self._lock:
            task = self._decidable_task(command)
            base: dict[str, Any] = dict(
                actor_id=command.actor_id,
                votes=[command],
                data={
                    "task_id": task.opening.task_id,
                    "step": task.opening.step_key,
                    "outcome": command.outcome,
                    "comment": command.comment,
                },
            )
            kind = task.opening.kind
            if kind == TaskKind.REVIEW:
                await self._decide_review(task, command, base)
            elif kind == TaskKind.IP_CLEARANCE:
                await self._decide_clearance(task, command, base)
            elif kind == TaskKind.SIGNATURE:
                await self._decide_signature(task, command, base)
            else:
                await self._submit_report(task, command, base)
            return self._result()

    @decide.validator
    def _validate_decide(self, command: Decision) -> None:
        if self._lock.locked() and command.task_id not in self._open:
            # A transition in progress may be opening this task: its row is committed
            # (so the inbox shows it) before the activity's result reaches us. The
            # handler checks the task once the transition is done.
            return
        self._decidable_task(command)

    @workflow.update
    async def revise(self, command: RevisionCommand) -> UpdateResult:
        async with self._lock:
            self._require_status(AgreementStatus.CHANGES_REQUESTED, "revised")
            proposal = self._revised(command)
            plan = await self._plan_review(proposal)
            opening = self._opening(plan, 0, self._revision + 1)
            changed = command.revision.changed_fields()
            await self._apply(
                event_type="revised",
                to_status=AgreementStatus.IN_REVIEW,
                actor_id=command.actor_id,
                revised=proposal,
                revision_number=self._revision + 1,
                opens=[opening],
                notices=[self._assigned_notice(opening)],
                data={
                    "changed": changed,
                    "comment": command.revision.comment,
                    **_plan_data(plan),
                },
            )
            self._proposal, self._plan, self._step_index = proposal, plan, 0
            self._revision += 1
            self._track(opening)
            return self._result()

    @revise.validator
    def _validate_revise(self, command: RevisionCommand) -> None:
        self._require_status(AgreementStatus.CHANGES_REQUESTED, "revised")
        self._revised(command)

    def _revised(self, command: RevisionCommand) -> Proposal:
        """The proposal after the revision; it must hold together as a whole (a signatory
        must still sign for a party). A plain exception here would fail the workflow task."""
        try:
            return command.revision.apply_to(self._proposal)
        except ValidationError as err:
            reasons = "; ".join(str(e["msg"]) for e in err.errors())
            raise ApplicationError(
                f"the revised proposal is not valid: {reasons}", type=CommandRejected.INVALID_DATA
            ) from None

    @workflow.update
    async def dismiss_finding(self, command: FindingDismissal) -> UpdateResult:
        """Counsel marks a screening hit a false positive; the pair is remembered."""
        async with self._lock:
            finding = self._dismissable(command)
            await self._apply(
                event_type="finding_dismissed",
                to_status=self.status,
                actor_id=command.actor_id,
                dismissals=[command],
                data={
                    "finding_id": command.finding_id,
                    "subject": finding.subject,
                    "screening_entry_id": finding.screening_entry_id,
                    "reason": command.reason,
                },
            )
            del self._findings[command.finding_id]
            return self._result()

    @dismiss_finding.validator
    def _validate_dismiss_finding(self, command: FindingDismissal) -> None:
        self._dismissable(command)

    @workflow.update
    async def reassign(self, command: Reassignment) -> UpdateResult:
        async with self._lock:
            task = self._open_task(command.task_id)
            opening = task.opening.model_copy(
                update={
                    "user_id": command.user_id,
                    "group_id": command.group_id,
                    "due_at": command.due_at or task.opening.due_at,
                }
            )
            await self._apply(
                event_type="task_reassigned",
                to_status=self.status,
                actor_id=command.actor_id,
                reassigns=[opening],
                notices=[self._assigned_notice(opening)],
                data={
                    "task_id": opening.task_id,
                    "step": opening.step_key,
                    "user_id": command.user_id,
                    "group_id": command.group_id,
                    "due_at": opening.due_at.isoformat(),
                    "reason": command.reason,
                },
            )
            task.opening = opening
            if command.due_at is not None:
                # A new due date restarts the reminders from now.
                task.created_at = workflow.now()
                task.notices_sent = []
            return self._result()

    @reassign.validator
    def _validate_reassign(self, command: Reassignment) -> None:
        task = self._open_task(command.task_id)
        if (command.user_id is None) == (command.group_id is None):
            raise ApplicationError(
                "name either a user or a group", type=CommandRejected.INVALID_ASSIGNEE
            )
        if task.opening.kind == TaskKind.SIGNATURE:
            raise ApplicationError(
                "a signature task belongs to its named signatory and cannot be reassigned",
                type=CommandRejected.WRONG_STATUS,
            )
        if command.due_at is not None and command.due_at > workflow.now() + _MAX_DUE_AHEAD:
            # Reminder arithmetic past the end of the calendar would fail every task.
            raise ApplicationError(
                "a new due date must be within a year", type=CommandRejected.INVALID_DATA
            )

    @workflow.update
    async def withdraw(self, command: WithdrawalCommand) -> UpdateResult:
        async with self._lock:
            self._require_withdrawable()
            await self._apply(
                event_type="withdrawn",
                to_status=AgreementStatus.WITHDRAWN,
                actor_id=command.actor_id,
                closes=self._close_all(None, None),
                data={"reason": command.reason},
            )
            self._open.clear()
            return self._result()

    @withdraw.validator
    def _validate_withdraw(self, command: WithdrawalCommand) -> None:
        self._require_withdrawable()

    @workflow.update
    async def terminate(self, command: TerminationCommand) -> UpdateResult:
        """An admin ends the agreement, whatever its stage, with a reason."""
        async with self._lock:
            self._require_open()
            await self._apply(
                event_type="terminated",
                to_status=AgreementStatus.TERMINATED,
                actor_id=command.actor_id,
                closes=self._close_all(None, None),
                obligations=self._settle_obligations(ObligationStatus.CANCELLED),
                licenses="end" if self._effective_at else None,
                notices=[self._officer_notice(NoticeKind.OUTCOME, "terminated", command.reason)],
                data={"reason": command.reason},
            )
            self._open.clear()
            return self._result()

    @terminate.validator
    def _validate_terminate(self, command: TerminationCommand) -> None:
        self._require_open()

    @workflow.query
    def snapshot(self) -> dict[str, Any]:
        return {
            "status": self._status,
            "seq": self._seq,
            "revision": self._revision,
            "open_tasks": sorted(self._open),
            "findings": sorted(self._findings),
            "obligations": {o.id: o.status for o in self._obligations},
        }

    # --- review ------------------------------------------------------------------------

    async def _submit(self) -> None:
        plan = await self._plan_review(self._proposal)
        opening = self._opening(plan, 0, 0)
        await self._apply(
            event_type="submitted",
            to_status=AgreementStatus.IN_REVIEW,
            actor_id=self._start.officer_id,
            create=self._start,
            opens=[opening],
            notices=[self._assigned_notice(opening)],
            data=_plan_data(plan),
        )
        self._plan = plan
        self._track(opening)

    async def _decide_review(self, task: OpenTask, command: Decision, base: dict[str, Any]) -> None:
        opening = task.opening
        if command.outcome == ReviewOutcome.APPROVE:
            await self._approve(task, command, base)
        elif command.outcome == ReviewOutcome.REJECT:
            await self._apply(
                event_type="rejected",
                to_status=AgreementStatus.REJECTED,
                closes=self._close_all(opening.task_id, ReviewOutcome.REJECT),
                notices=[self._officer_notice(NoticeKind.OUTCOME, "rejected", command.comment)],
                **base,
            )
            self._open.clear()
        else:
            await self._apply(
                event_type="changes_requested",
                to_status=AgreementStatus.CHANGES_REQUESTED,
                closes=self._close_all(opening.task_id, ReviewOutcome.REQUEST_CHANGES),
                notices=[
                    self._officer_notice(
                        NoticeKind.CHANGES_REQUESTED, "returned for changes", command.comment
                    )
                ],
                **base,
            )
            self._open.clear()

    async def _approve(self, task: OpenTask, command: Decision, base: dict[str, Any]) -> None:
        opening = task.opening
        approvals = len(task.voters) + 1
        base["data"] |= {"approvals": approvals, "approvals_required": opening.approvals_required}
        if approvals < opening.approvals_required:
            await self._apply(event_type="review_vote", to_status=self.status, **base)
            task.voters.append(command.actor_id)
            return
        closes = [TaskClosing(task_id=opening.task_id, status=TaskStatus.DONE, outcome="approve")]
        assert self._plan is not None
        next_index = self._step_index + 1
        if next_index < len(self._plan.steps):
            following = self._opening(self._plan, next_index, self._revision)
            await self._apply(
                event_type="review_step_approved",
                to_status=AgreementStatus.IN_REVIEW,
                closes=closes,
                opens=[following],
                notices=[self._assigned_notice(following)],
                **base,
            )
            self._step_index = next_index
            del self._open[opening.task_id]
            self._track(following)
            return
        await self._apply(
            event_type="review_completed",
            to_status=AgreementStatus.IP_CLEARANCE,
            closes=closes,
            notices=[self._officer_notice(NoticeKind.OUTCOME, "approved in review", "")],
            **base,
        )
        del self._open[opening.task_id]
        await self._check_clearance()

    # --- IP clearance ------------------------------------------------------------------

    async def _check_clearance(self) -> None:
        """Run the automatic checks, record every finding, and open counsel's task."""
        report: ClearanceReport = await workflow.execute_activity(
            RUN_CLEARANCE_CHECKS,
            ClearanceCheck(agreement_id=self._start.agreement_id, proposal=self._proposal),
            result_type=ClearanceReport,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=_WRITE_RETRY,
        )
        findings = [f.model_copy(update={"id": str(workflow.uuid4())}) for f in report.findings]
        opening = TaskOpening(
            task_id=str(workflow.uuid4()),
            kind=TaskKind.IP_CLEARANCE,
            step_key="ip_clearance",
            step_name="IP clearance",
            round=self._revision,
            group_id=report.counsel_group_id,
            approvals_required=1,
            due_at=workflow.now() + timedelta(seconds=self._start.timings.clearance_sla_seconds),
        )
        by_severity: dict[str, int] = {}
        for finding in findings:
            by_severity[finding.severity] = by_severity.get(finding.severity, 0) + 1
        await self._apply(
            event_type="ip_checks_completed",
            to_status=AgreementStatus.IP_CLEARANCE,
            findings=findings,
            opens=[opening],
            notices=[self._assigned_notice(opening)],
            data={
                "findings": len(findings),
                "by_severity": by_severity,
                "kinds": sorted({f.kind for f in findings}),
                "screening_list": report.screening_list,
                "task_id": opening.task_id,
            },
        )
        self._findings = {f.id: f for f in findings if f.id}
        self._track(opening)

    async def _decide_clearance(
        self, task: OpenTask, command: Decision, base: dict[str, Any]
    ) -> None:
        opening = task.opening
        if command.outcome == ClearanceOutcome.BLOCK:
            await self._apply(
                event_type="blocked",
                to_status=AgreementStatus.BLOCKED,
                closes=self._close_all(opening.task_id, ClearanceOutcome.BLOCK),
                notices=[
                    self._officer_notice(
                        NoticeKind.OUTCOME, "blocked in IP clearance", command.comment
                    )
                ],
                **base,
            )
            self._open.clear()
            return
        # Only clear_with_conditions sets conditions; anything else a caller put in the
        # free-form data is not a condition.
        conditions = (
            [str(c) for c in command.data.get("conditions", [])]
            if command.outcome == ClearanceOutcome.CLEAR_WITH_CONDITIONS
            else []
        )
        base["data"] |= {"conditions": conditions}
        await self._start_signature(
            event_type="cleared",
            closes=[
                TaskClosing(
                    task_id=opening.task_id, status=TaskStatus.DONE, outcome=command.outcome
                )
            ],
            conditions=conditions,
            base=base,
        )
        del self._open[opening.task_id]

    # --- signature ---------------------------------------------------------------------

    async def _start_signature(
        self,
        *,
        event_type: str,
        closes: list[TaskClosing],
        conditions: list[str],
        base: dict[str, Any],
    ) -> None:
        """Render the document to sign and send the envelope to the first signatories."""
        try:
            signatories: list[ResolvedSignatory] = await workflow.execute_activity(
                RESOLVE_SIGNATORIES,
                self._proposal.signatories,
                result_type=list[ResolvedSignatory],
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=_WRITE_RETRY,
            )
        except ActivityError as err:
            message = getattr(err.cause, "message", None) or str(err)
            raise ApplicationError(message, type=CommandRejected.SIGNATORY_UNAVAILABLE) from err
        document = await self._render(
            DocumentRequest(
                agreement_id=self._start.agreement_id,
                revision=self._revision,
                proposal=self._proposal,
                conditions=conditions,
            )
        )
        expires_at = workflow.now() + timedelta(
            seconds=self._start.timings.signature_validity_seconds
        )
        first = min(s.order for s in signatories)
        openings = [self._signature_opening(s, expires_at) for s in signatories if s.order == first]
        base["data"] |= {
            "document_sha256": document.sha256,
            "envelope_expires_at": expires_at.isoformat(),
            "signatories": [
                {"name": s.name, "on_behalf_of": s.on_behalf_of, "order": s.order}
                for s in signatories
            ],
        }
        await self._apply(
            event_type=event_type,
            to_status=AgreementStatus.IN_SIGNATURE,
            closes=closes,
            conditions=conditions,
            document=document,
            opens=openings,
            notices=[self._signature_notice(o) for o in openings],
            **base,
        )
        self._conditions, self._document = conditions, document
        self._signatories, self._signatures = signatories, []
        self._envelope_expires_at = expires_at
        for opening in openings:
            self._track(opening)

    def _signature_opening(self, signatory: ResolvedSignatory, due_at: datetime) -> TaskOpening:
        return TaskOpening(
            task_id=str(workflow.uuid4()),
            kind=TaskKind.SIGNATURE,
            step_key=f"signature_{signatory.order}",
            step_name=f"Signature for {signatory.on_behalf_of}"[:200],
            round=self._revision,
            group_id=None,
            user_id=signatory.user_id,
            approvals_required=1,
            due_at=due_at,
        )

    async def _decide_signature(
        self, task: OpenTask, command: Decision, base: dict[str, Any]
    ) -> None:
        opening = task.opening
        if command.outcome == SignatureOutcome.DECLINE:
            # Back to the officer, who revises; the review then starts again.
            await self._apply(
                event_type="declined",
                to_status=AgreementStatus.CHANGES_REQUESTED,
                closes=self._close_all(opening.task_id, SignatureOutcome.DECLINE),
                notices=[
                    self._officer_notice(
                        NoticeKind.CHANGES_REQUESTED, "declined at signature", command.comment
                    )
                ],
                **base,
            )
            self._open.clear()
            self._end_envelope()
            return
        signatory = next(s for s in self._signatories if s.user_id == opening.user_id)
        assert self._document is not None
        record = SignatureRecord(
            task_id=opening.task_id,
            user_id=signatory.user_id,
            name=signatory.name,
            email=signatory.email,
            on_behalf_of=signatory.on_behalf_of,
            order=signatory.order,
            signed_at=workflow.now(),
            ip_address=command.data.get("ip_address"),
            user_agent=command.data.get("user_agent"),
            document_sha256=self._document.sha256,
        )
        closes = [TaskClosing(task_id=opening.task_id, status=TaskStatus.DONE, outcome="sign")]
        same_order_open = [
            t
            for t in self._open.values()
            if t.opening.kind == TaskKind.SIGNATURE and t.opening.task_id != opening.task_id
        ]
        later = sorted({s.order for s in self._signatories if s.order > signatory.order})
        openings: list[TaskOpening] = []
        if not same_order_open and later:
            assert self._envelope_expires_at is not None
            openings = [
                self._signature_opening(s, self._envelope_expires_at)
                for s in self._signatories
                if s.order == later[0]
            ]
        base["data"] |= {"on_behalf_of": signatory.on_behalf_of, "order": signatory.order}
        await self._apply(
            event_type="signed",
            to_status=AgreementStatus.IN_SIGNATURE,
            closes=closes,
            signatures=[record],
            opens=openings,
            notices=[self._signature_notice(o) for o in openings],
            **base,
        )
        self._signatures.append(record)
        del self._open[opening.task_id]
        for following in openings:
            self._track(following)
        if len(self._signatures) == len(self._signatories):
            await self._activate()

    async def _render(self, request: DocumentRequest) -> StoredDocument:
        document: StoredDocument = await workflow.execute_activity(
            RENDER_DOCUMENT,
            request,
            result_type=StoredDocument,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=_WRITE_RETRY,
        )
        return document

    def _end_envelope(self) -> None:
        self._signatures, self._envelope_expires_at = [], None

    async def _expire_envelope(self) -> None:
        await self._apply(
            event_type="envelope_expired",
            to_status=AgreementStatus.EXPIRED,
            closes=[
                TaskClosing(task_id=task_id, status=TaskStatus.EXPIRED) for task_id in self._open
            ],
            notices=[
                self._officer_notice(
                    NoticeKind.OUTCOME,
                    "expired: not every signatory signed in time",
                    f"{len(self._signatures)} of {len(self._signatories)} signatures were given.",
                )
            ],
            data={"signed": len(self._signatures), "signatories": len(self._signatories)},
        )
        self._open.clear()
        self._end_envelope()

    # --- active ------------------------------------------------------------------------

    async def _activate(self) -> None:
        """Every signature is in: the signed copy is rendered and the term starts."""
        effective_at = workflow.now()
        signed = await self._render(
            DocumentRequest(
                agreement_id=self._start.agreement_id,
                revision=self._revision,
                proposal=self._proposal,
                conditions=self._conditions,
                effective_at=effective_at,
                signatures=self._signatures,
            )
        )
        terms = self._proposal.terms
        ends_at = add_months(effective_at, terms.term_months)
        obligations = obligations_for(
            terms,
            effective_at,
            timedelta(seconds=self._start.timings.report_lead_seconds),
            lambda: str(workflow.uuid4()),
        )
        await self._apply(
            event_type="activated",
            to_status=AgreementStatus.ACTIVE,
            document=signed,
            effective_at=effective_at,
            ends_at=ends_at,
            obligations=obligations,
            licenses="grant",
            notices=[
                self._officer_notice(NoticeKind.OUTCOME, "signed by all and is now active", "")
            ],
            data={
                "effective_at": effective_at.isoformat(),
                "ends_at": ends_at.isoformat(),
                "document_sha256": signed.sha256,
                "obligations": len(obligations),
            },
        )
        self._document, self._effective_at, self._ends_at = signed, effective_at, ends_at
        self._obligations = obligations
        self._envelope_expires_at = None

    async def _open_obligation(self, obligation: Obligation) -> None:
        opening = TaskOpening(
            task_id=str(workflow.uuid4()),
            kind=TaskKind.REPORT,
            step_key=str(obligation.kind),
            step_name=obligation.name[:200],
            round=self._revision,
            group_id=None,
            user_id=self._start.officer_id,
            approvals_required=1,
            due_at=obligation.due_at,
        )
        opened = obligation.model_copy(
            update={"status": ObligationStatus.OPEN, "task_id": opening.task_id}
        )
        await self._apply(
            event_type="obligation_opened",
            to_status=self.status,
            opens=[opening],
            obligations=[opened],
            notices=[self._assigned_notice(opening)],
            data={
                "obligation_id": obligation.id,
                "name": obligation.name,
                "task_id": opening.task_id,
            },
        )
        self._replace_obligation(opened)
        self._track(opening)

    async def _flag_overdue(self, obligation: Obligation) -> None:
        flagged = obligation.model_copy(update={"overdue": True})
        title = self._proposal.title
        await self._apply(
            event_type="obligation_overdue",
            to_status=self.status,
            obligations=[flagged],
            notices=[
                Notice(
                    kind=NoticeKind.OBLIGATION_OVERDUE,
                    audience="officer",
                    task_id=obligation.task_id,
                    subject=f"Overdue: {obligation.name} for '{title}'",
                    body=f"'{obligation.name}' on '{title}' was due "
                    f"{obligation.due_at.strftime('%Y-%m-%d')} and has not been submitted.",
                )
            ],
            data={"obligation_id": obligation.id, "name": obligation.name},
        )
        self._replace_obligation(flagged)

    async def _submit_report(self, task: OpenTask, command: Decision, base: dict[str, Any]) -> None:
        opening = task.opening
        obligation = next(o for o in self._obligations if o.task_id == opening.task_id)
        report = ReportSubmission.model_validate(command.data.get("report", {}))
        met = obligation.model_copy(
            update={"status": ObligationStatus.MET, "met_at": workflow.now(), "report": report}
        )
        base["data"] |= {
            "obligation_id": obligation.id,
            "name": obligation.name,
            "late": workflow.now() > obligation.due_at,
            "income": str(report.income) if report.income is not None else None,
        }
        await self._apply(
            event_type="report_submitted",
            to_status=self.status,
            closes=[TaskClosing(task_id=opening.task_id, status=TaskStatus.DONE, outcome="submit")],
            obligations=[met],
            **base,
        )
        self._replace_obligation(met)
        del self._open[opening.task_id]

    async def _complete(self) -> None:
        await self._apply(
            event_type="completed",
            to_status=AgreementStatus.COMPLETED,
            closes=self._close_all(None, None),
            obligations=self._settle_obligations(ObligationStatus.MISSED),
            licenses="end",
            notices=[
                self._officer_notice(NoticeKind.OUTCOME, "completed at the end of its term", "")
            ],
            data={
                "met": sum(o.status == ObligationStatus.MET for o in self._obligations),
                "obligations": len(self._obligations),
            },
        )
        self._open.clear()

    def _settle_obligations(self, unmet: ObligationStatus) -> list[Obligation]:
        """Obligations not met when the agreement ends, with the status they end in."""
        settled = [
            o.model_copy(update={"status": unmet})
            for o in self._obligations
            if o.status in (ObligationStatus.PENDING, ObligationStatus.OPEN)
        ]
        for obligation in settled:
            self._replace_obligation(obligation)
        return settled

    def _replace_obligation(self, obligation: Obligation) -> None:
        self._obligations = [obligation if o.id == obligation.id else o for o in self._obligations]

    # --- timers --------------------------------------------------------------------------

    async def _sleep_until_next_timer(self) -> None:
        due = self._next_timer_at()
        self._changed = False
        if due is not None and due <= workflow.now():
            async with self._lock:
                await self._run_due_timers()
            return
        timeout = None if due is None else (due - workflow.now())
        try:
            await workflow.wait_condition(lambda: self._changed, timeout=timeout)
        except TimeoutError:
            async with self._lock:
                await self._run_due_timers()

    def _notice_times(self, task: OpenTask) -> list[tuple[str, datetime]]:
        timings = self._start.timings
        created, due = task.created_at, task.opening.due_at
        reminder = created + (due - created) * timings.reminder_share
        if task.opening.kind == TaskKind.SIGNATURE:
            # The envelope expires at the due date: two reminders before, no escalation.
            final = created + (due - created) * ((1 + timings.reminder_share) / 2)
            return [("reminder", reminder), ("final_reminder", final)]
        return [
            ("reminder", reminder),
            ("due", due),
            ("escalation", due + timedelta(seconds=timings.escalation_grace_seconds)),
        ]

    def _agreement_timers(self) -> list[tuple[datetime, str, Obligation | None]]:
        """The moments the agreement itself changes: expiry, obligations, end of term."""
        timers: list[tuple[datetime, str, Obligation | None]] = []
        if self._status == AgreementStatus.IN_SIGNATURE and self._envelope_expires_at:
            timers.append((self._envelope_expires_at, "expire", None))
        if self._status == AgreementStatus.ACTIVE:
            for obligation in self._obligations:
                if obligation.status == ObligationStatus.PENDING:
                    timers.append((obligation.opens_at, "open", obligation))
                elif obligation.status == ObligationStatus.OPEN and not obligation.overdue:
                    timers.append((obligation.due_at, "overdue", obligation))
            if self._ends_at is not None:
                timers.append((self._ends_at, "complete", None))
        return timers

    def _next_timer_at(self) -> datetime | None:
        pending = [
            at
            for task in self._open.values()
            for name, at in self._notice_times(task)
            if name not in task.notices_sent
        ]
        pending += [at for at, _, _ in self._agreement_timers()]
        return min(pending, default=None)

    async def _run_due_timers(self) -> None:
        now = workflow.now()
        for at, what, obligation in sorted(self._agreement_timers(), key=lambda t: t[0]):
            if at > now or self.status.is_terminal:
                continue
            if what == "expire":
                await self._expire_envelope()
            elif what == "complete":
                await self._complete()
            elif what == "open" and obligation is not None:
                await self._open_obligation(obligation)
            elif what == "overdue" and obligation is not None:
                await self._flag_overdue(obligation)
        for task in list(self._open.values()):
            for name, at in self._notice_times(task):
                if name in task.notices_sent or at > now or task.opening.task_id not in self._open:
                    continue
                await self._apply(**self._notice_transition(task, name))
                task.notices_sent.append(name)

    def _notice_transition(self, task: OpenTask, name: str) -> dict[str, Any]:
        opening = task.opening
        title = self._proposal.title
        due = opening.due_at.strftime("%Y-%m-%d %H:%M UTC")
        if name == "escalation":
            notice = Notice(
                kind=NoticeKind.ESCALATION,
                audience="escalation",
                task_id=opening.task_id,
                subject=f"Overdue: {opening.step_name} for '{title}'",
                body=f"'{opening.step_name}' on '{title}' was due {due} and is still open.",
            )
            return dict(
                event_type="escalation",
                to_status=self.status,
                notices=[notice],
                escalated_task_id=opening.task_id,
                data={"task_id": opening.task_id, "step": opening.step_key},
            )
        if opening.kind == TaskKind.SIGNATURE:
            when = f"the envelope expires {due}"
            action = "Please sign"
        else:
            when = "it is due now" if name == "due" else f"it is due {due}"
            action = "Please complete"
        notice = Notice(
            kind=NoticeKind.REMINDER,
            audience="assignees",
            task_id=opening.task_id,
            subject=f"Reminder: {opening.step_name} for '{title}': {when}",
            body=f"{action} the task '{opening.step_name}' on '{title}'; {when}.",
        )
        return dict(
            event_type="reminder",
            to_status=self.status,
            notices=[notice],
            reminded_task_id=opening.task_id,
            data={"task_id": opening.task_id, "step": opening.step_key, "reminder": name},
        )

    # --- helpers -----------------------------------------------------------------------

    def _history_is_long(self) -> bool:
        """An agreement lives for years: its history is cut short, run after run."""
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() >= self._start.timings.history_limit
        )

    @property
    def status(self) -> AgreementStatus:
        assert self._status is not None
        return self._status

    def _result(self) -> UpdateResult:
        return UpdateResult(
            agreement_id=self._start.agreement_id, status=self.status, seq=self._seq
        )

    async def _plan_review(self, proposal: Proposal) -> ReviewPlan:
        return await workflow.execute_activity(
            PLAN_REVIEW,
            proposal,
            result_type=ReviewPlan,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=_WRITE_RETRY,
        )

    async def _apply(self, *, event_type: str, to_status: AgreementStatus, **parts: Any) -> None:
        seq = self._seq + 1
        transition = Transition(
            key=f"{workflow.info().workflow_id}/{seq}",
            seq=seq,
            agreement_id=self._start.agreement_id,
            at=workflow.now(),
            event_type=event_type,
            from_status=self._status,
            to_status=to_status,
            actor_id=parts.pop("actor_id", None),
            **parts,
        )
        persisted = await workflow.execute_activity(
            PERSIST_TRANSITION,
            transition,
            result_type=PersistedTransition,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=_WRITE_RETRY,
        )
        self._seq, self._status, self._changed = seq, to_status, True
        if persisted.notification_ids:
            self._deliveries = [d for d in self._deliveries if not d.done()]
            self._deliveries.append(asyncio.create_task(self._deliver(persisted.notification_ids)))

    async def _deliver(self, notification_ids: list[str]) -> None:
        try:
            await workflow.execute_activity(
                DELIVER_NOTIFICATIONS,
                notification_ids,
                start_to_close_timeout=timedelta(seconds=60),
                retry_policy=_DELIVERY_RETRY,
            )
        except ActivityError:
            # The outbox row keeps the failure; a lost e-mail must not stop the agreement.
            workflow.logger.warning(
                "notification delivery gave up", extra={"ids": notification_ids}
            )

    async def _settle(self) -> None:
        """Return once no command is in flight and every delivery has finished: what a run
        owes before it ends or continues as new. A command may land while the run waits
        for a delivery, and start one of its own; so wait until both hold at once."""
        while True:
            await workflow.wait_condition(
                lambda: not self._lock.locked() and workflow.all_handlers_finished()
            )
            in_flight = [d for d in self._deliveries if not d.done()]
            self._deliveries = in_flight
            if not in_flight:
                return
            await asyncio.gather(*in_flight)

    def _opening(self, plan: ReviewPlan, index: int, round_: int) -> TaskOpening:
        step = plan.steps[index]
        return TaskOpening(
            task_id=str(workflow.uuid4()),
            kind=TaskKind.REVIEW,
            step_key=step.key,
            step_name=step.name,
            round=round_,
            group_id=step.group_id,
            approvals_required=step.approvals_required,
            due_at=workflow.now() + timedelta(seconds=step.sla_seconds),
        )

    def _track(self, opening: TaskOpening) -> None:
        self._open[opening.task_id] = OpenTask(opening=opening, created_at=workflow.now())

    def _close_all(self, decided_id: str | None, outcome: str | None) -> list[TaskClosing]:
        return [
            TaskClosing(task_id=task_id, status=TaskStatus.DONE, outcome=outcome)
            if task_id == decided_id
            else TaskClosing(task_id=task_id, status=TaskStatus.CANCELLED)
            for task_id in self._open
        ]

    def _assigned_notice(self, opening: TaskOpening) -> Notice:
        title = self._proposal.title
        return Notice(
            kind=NoticeKind.TASK_ASSIGNED,
            audience="assignees",
            task_id=opening.task_id,
            subject=f"New task: {opening.step_name} for '{title}'",
            body=(
                f"'{title}' ({self._proposal.kind}) awaits your {opening.step_name.lower()}. "
                f"Due {opening.due_at.strftime('%Y-%m-%d %H:%M UTC')}."
            ),
        )

    def _signature_notice(self, opening: TaskOpening) -> Notice:
        title = self._proposal.title
        return Notice(
            kind=NoticeKind.TASK_ASSIGNED,
            audience="assignees",
            task_id=opening.task_id,
            subject=f"Please sign '{title}'",
            body=(
                f"'{title}' is ready for your signature ({opening.step_name.lower()}). "
                f"Read the document at /v1/agreements/{self._start.agreement_id}/document and "
                f"sign before {opening.due_at.strftime('%Y-%m-%d %H:%M UTC')}, when the "
                "envelope expires."
            ),
        )

    def _officer_notice(self, kind: NoticeKind, what: str, comment: str) -> Notice:
        title = self._proposal.title
        body = f"'{title}' was {what}."
        if comment:
            body += f"\n\nComment: {comment}"
        return Notice(kind=kind, audience="officer", subject=f"'{title}' {what}", body=body)

    def _open_task(self, task_id: str) -> OpenTask:
        if self._status is None:
            raise ApplicationError(
                "agreement is not submitted yet", type=CommandRejected.NOT_SUBMITTED
            )
        task = self._open.get(task_id)
        if task is None:
            raise ApplicationError("task is no longer open", type=CommandRejected.TASK_NOT_OPEN)
        return task

    def _decidable_task(self, command: Decision) -> OpenTask:
        task = self._open_task(command.task_id)
        if command.outcome not in OUTCOMES_BY_KIND[task.opening.kind]:
            allowed = ", ".join(sorted(OUTCOMES_BY_KIND[task.opening.kind]))
            raise ApplicationError(
                f"outcome '{command.outcome}' is not one of: {allowed}",
                type=CommandRejected.INVALID_OUTCOME,
            )
        if command.actor_id in task.voters:
            raise ApplicationError(
                "you have already decided this task", type=CommandRejected.ALREADY_DECIDED
            )
        if command.outcome == ClearanceOutcome.CLEAR:
            critical = sorted(
                {f.kind for f in self._findings.values() if f.severity == Severity.CRITICAL}
            )
            if critical:
                raise ApplicationError(
                    f"critical findings are open ({', '.join(critical)}): clear with"
                    " conditions that address them, dismiss a false positive, or block",
                    type=CommandRejected.CRITICAL_FINDINGS,
                )
        if command.outcome == SignatureOutcome.SIGN:
            seen = command.data.get("document_sha256")
            current = self._document.sha256 if self._document else None
            if seen != current:
                raise ApplicationError(
                    f"the document changed: you signed {seen}, the current one is {current};"
                    " read it again before you sign",
                    type=CommandRejected.STALE_DOCUMENT,
                )
        if command.outcome == ReportOutcome.SUBMIT:
            try:
                ReportSubmission.model_validate(command.data.get("report", {}))
            except ValueError as err:
                raise ApplicationError(
                    f"the report is not valid: {err}", type=CommandRejected.INVALID_DATA
                ) from None
        return task

    def _dismissable(self, command: FindingDismissal) -> Finding:
        self._require_status(AgreementStatus.IP_CLEARANCE, "cleared of findings")
        finding = self._findings.get(command.finding_id)
        if finding is None or finding.kind != FindingKind.SCREENING_HIT:
            raise ApplicationError(
                "no open screening hit with this id on the agreement",
                type=CommandRejected.FINDING_NOT_OPEN,
            )
        if finding.screening_entry_id is None:
            raise ApplicationError(
                "this finding names no list entry; it cannot be a false positive",
                type=CommandRejected.FINDING_NOT_OPEN,
            )
        return finding

    def _require_status(self, expected: AgreementStatus, action: str) -> None:
        if self._status != expected:
            raise ApplicationError(
                f"agreement is {self._status}; it can be {action} only when {expected}",
                type=CommandRejected.WRONG_STATUS,
            )

    def _require_withdrawable(self) -> None:
        if self._status is None or not self._status.may_withdraw:
            raise ApplicationError(
                f"agreement is {self._status}; it can no longer be withdrawn",
                type=CommandRejected.WRONG_STATUS,
            )

    def _require_open(self) -> None:
        if self._status is None or self._status.is_terminal:
            raise ApplicationError(
                f"agreement is {self._status}; it has already ended",
                type=CommandRejected.WRONG_STATUS,
            )

    def _snapshot(self) -> Snapshot:
        return Snapshot(
            status=self.status,
            seq=self._seq,
            revision=self._revision,
            proposal=self._proposal,
            plan=self._plan,
            step_index=self._step_index,
            open_tasks=self._open,
            findings=self._findings,
            conditions=self._conditions,
            document=self._document,
            signatories=self._signatories,
            signatures=self._signatures,
            envelope_expires_at=self._envelope_expires_at,
            effective_at=self._effective_at,
            ends_at=self._ends_at,
            obligations=self._obligations,
        )
