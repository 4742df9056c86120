"""The agreement workflow: the only writer of an agreement's state.

This module orchestrates: it takes updates (validated first, then run one at a time
under a lock), asks the stage a decision or a timer belongs to what changes
(`workflows/<stage>/stage.py`), records each change with one `persist_transition`
activity, keyed by workflow id and event number, so a retried write lands once and the
event log has neither duplicates nor gaps, delivers the notices it stored, and
continues as new when its history grows long. It holds no stage's rule.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from workflows.clearance import stage as clearance
    from workflows.clearance.messages import (
        ClearanceDecision,
        ConditionalClearance,
        FindingDismissal,
    )
    from workflows.core import interventions, reminders
    from workflows.core.activities import (
        DELIVER_NOTIFICATIONS,
        DELIVERY_RETRY,
        PERSIST_TRANSITION,
        call,
    )
    from workflows.core.commands import (
        CommandRejected,
        Reassignment,
        RevisionCommand,
        TerminationCommand,
        UpdateResult,
        WithdrawalCommand,
        rejected,
        require_status,
    )
    from workflows.core.notices import Event
    from workflows.core.proposal import Proposal
    from workflows.core.state import AgreementInput, AgreementState, Context
    from workflows.core.statuses import AgreementStatus
    from workflows.core.tasks import OpenTask, TaskOpening, close_all
    from workflows.core.transition import (
        Change,
        Handoff,
        PersistedTransition,
        Step,
        Timer,
        Transition,
    )
    from workflows.decisions import OUTCOMES_BY_KIND, Decision
    from workflows.review import stage as review
    from workflows.review.messages import ReviewDecision
    from workflows.signature import stage as signature
    from workflows.signature.messages import DeclineDecision, SignDecision
    from workflows.term import stage as term
    from workflows.term.messages import ObligationStatus


@workflow.defn(name="Agreement")
class AgreementWorkflow:
    @workflow.init
    def __init__(self, params: AgreementInput) -> None:
        self._start = params.start
        self._lock = asyncio.Lock()
        self._changed = False
        self._failure: str | None = None
        self._deliveries: list[asyncio.Task[None]] = []
        self._state = params.resume or AgreementState(proposal=params.start.proposal)

    @workflow.run
    async def run(self, params: AgreementInput) -> str:
        if params.resume is None:
            async with self._lock:
                try:
                    plan = await review.plan(self._state.proposal)
                    await self._advance(review.submitted(self._context(), plan))
                except ActivityError as err:
                    self._failure = getattr(err.cause, "message", None) or str(err)
                    await workflow.wait_condition(workflow.all_handlers_finished)
                    raise ApplicationError(
                        f"submission failed: {self._failure}",
                        type=CommandRejected.SUBMISSION_FAILED,
                    ) from err
        while self._state.status is not None and not self._state.status.is_terminal:
            if self._history_is_long():
                await self._settle()
                if self.status.is_terminal:
                    break
                # Nothing may run between _settle and continue_as_new: no await.
                workflow.continue_as_new(AgreementInput(start=self._start, resume=self._state))
            await self._sleep_until_next_timer()
        await self._settle()
        return str(self._state.status)

    # --- updates -------------------------------------------------------------------

    @workflow.update
    async def submit(self) -> UpdateResult:
        """The first update of update-with-start: answers once the agreement is stored."""
        await workflow.wait_condition(
            lambda: self._state.status is not None or self._failure is not None
        )
        if self._failure is not None:
            raise ApplicationError(self._failure, type=CommandRejected.SUBMISSION_FAILED)
        return self._result()

    @workflow.update
    async def decide(self, decision: Decision) -> UpdateResult:
        async with self._lock:
            task = self._decidable_task(decision)
            ctx = self._context()
            step: Step
            if isinstance(decision, ReviewDecision):
                step = review.decide(ctx, task, decision)
            elif isinstance(decision, ClearanceDecision | ConditionalClearance):
                step = clearance.decide(ctx, task, decision)
            elif isinstance(decision, SignDecision | DeclineDecision):
                step = signature.decide(ctx, task, decision)
            else:
                step = term.decide(ctx, task, decision)
            await self._advance(step)
            return self._result()

    @decide.validator
    def _validate_decide(self, decision: Decision) -> None:
        if self._lock.locked() and decision.task_id not in self._state.open_tasks:
            # A transition in progress may be opening this task: its row is committed
            # (so the inbox shows it) before the activity's result reaches us. The
            # handler checks the task once the transition is done.
            return
        self._decidable_task(decision)

    @workflow.update
    async def revise(self, command: RevisionCommand) -> UpdateResult:
        async with self._lock:
            require_status(self._state.status, AgreementStatus.CHANGES_REQUESTED, "revised")
            proposal = self._revised(command)
            plan = await review.plan(proposal)
            await self._advance(review.revised(self._context(), command, proposal, plan))
            return self._result()

    @revise.validator
    def _validate_revise(self, command: RevisionCommand) -> None:
        require_status(self._state.status, AgreementStatus.CHANGES_REQUESTED, "revised")
        self._revised(command)

    def _revised(self, command: RevisionCommand) -> Proposal:
        """The proposal after the revision; it must hold together as a whole (a signatory
        must still sign for a party). A plain exception here would fail the workflow task."""
        try:
            return command.revision.apply_to(self._state.proposal)
        except ValidationError as err:
            reasons = "; ".join(str(e["msg"]) for e in err.errors())
            raise rejected(
                f"the revised proposal is not valid: {reasons}", CommandRejected.INVALID_DATA
            ) from None

    @workflow.update
    async def dismiss_finding(self, command: FindingDismissal) -> UpdateResult:
        """Counsel marks a screening hit a false positive; the pair is remembered."""
        async with self._lock:
            await self._advance(clearance.dismiss(self._context(), command))
            return self._result()

    @dismiss_finding.validator
    def _validate_dismiss_finding(self, command: FindingDismissal) -> None:
        clearance.dismissable(self._context(), command)

    @workflow.update
    async def reassign(self, command: Reassignment) -> UpdateResult:
        async with self._lock:
            task = self._open_task(command.task_id)
            await self._advance(interventions.reassigned(self._context(), task, command))
            return self._result()

    @reassign.validator
    def _validate_reassign(self, command: Reassignment) -> None:
        task = self._open_task(command.task_id)
        interventions.check_reassignment(task, command, workflow.now())

    @workflow.update
    async def withdraw(self, command: WithdrawalCommand) -> UpdateResult:
        async with self._lock:
            interventions.require_withdrawable(self._state.status)
            await self._advance(interventions.withdrawn(self._context(), command))
            return self._result()

    @withdraw.validator
    def _validate_withdraw(self, command: WithdrawalCommand) -> None:
        interventions.require_withdrawable(self._state.status)

    @workflow.update
    async def terminate(self, command: TerminationCommand) -> UpdateResult:
        """An admin ends the agreement, whatever its stage, with a reason."""
        async with self._lock:
            interventions.require_open(self._state.status)
            ctx = self._context()
            settled = term.unmet(ctx, ObligationStatus.CANCELLED)
            change = Change(
                event_type="terminated",
                to_status=AgreementStatus.TERMINATED,
                actor_id=command.actor_id,
                closes=close_all(self._state.open_tasks),
                obligations=settled,
                licenses="end" if self._state.effective_at else None,
                notices=[ctx.notices.to_officer(Event.TERMINATED, command.reason)],
                data={"reason": command.reason},
            )
            await self._advance(Step(change, commit=lambda: term.keep(ctx, settled)))
            return self._result()

    @terminate.validator
    def _validate_terminate(self, command: TerminationCommand) -> None:
        interventions.require_open(self._state.status)

    @workflow.query
    def snapshot(self) -> dict[str, Any]:
        return self._state.summary()

    # --- the lifecycle -------------------------------------------------------------

    async def _advance(self, step: Step) -> None:
        """Record a stage's step, keep its state, and go where it hands off, until a
        step hands off nowhere."""
        while True:
            if step.then is Handoff.SIGNATURE:
                step = await signature.begin(self._context(), step.change)
            await self._apply(step.change)
            for closing in step.change.closes:
                self._state.open_tasks.pop(closing.task_id, None)
            for opening in step.change.opens:
                self._track(opening)
            if step.commit is not None:
                step.commit()
            if step.then is Handoff.CLEARANCE:
                step = await clearance.begin(self._context())
            elif step.then is Handoff.TERM:
                effective_at = workflow.now()
                signed = await signature.signed_copy(self._context(), effective_at)
                step = term.activate(self._context(), signed, effective_at)
            else:
                return

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

    def _timers(self) -> list[Timer]:
        """The moments the agreement itself changes: envelope expiry, obligations, the
        end of the term."""
        ctx = self._context()
        return signature.timers(ctx) + term.timers(ctx)

    def _next_timer_at(self) -> datetime | None:
        ctx = self._context()
        pending = [
            at for task in self._state.open_tasks.values() for _, at in reminders.owed(ctx, task)
        ]
        pending += [timer.at for timer in self._timers()]
        return min(pending, default=None)

    async def _run_due_timers(self) -> None:
        now = workflow.now()
        for timer in sorted(self._timers(), key=lambda t: t.at):
            if timer.at > now or self.status.is_terminal:
                continue
            await self._advance(timer.fire())
        ctx = self._context()
        for task in list(self._state.open_tasks.values()):
            for name, at in reminders.owed(ctx, task):
                if at > now or task.opening.task_id not in self._state.open_tasks:
                    continue
                await self._advance(reminders.remind(ctx, task, name))

    # --- recording -----------------------------------------------------------------

    async def _apply(self, change: Change) -> None:
        state = self._state
        seq = state.seq + 1
        transition = Transition(
            key=f"{workflow.info().workflow_id}/{seq}",
            seq=seq,
            agreement_id=self._start.agreement_id,
            at=workflow.now(),
            from_status=state.status,
            **dict(change),
        )
        persisted = await call(PERSIST_TRANSITION, transition, PersistedTransition)
        state.seq, state.status, self._changed = seq, change.to_status, True
        if persisted.notification_ids:
            self._deliveries = [d for d in self._deliveries if not d.done()]
            self._deliveries.append(asyncio.create_task(self._deliver(persisted.notification_ids)))

    async def _deliver(self, notification_ids: list[str]) -> None:
        try:
            await workflow.execute_activity(
                DELIVER_NOTIFICATIONS,
                notification_ids,
                start_to_close_timeout=timedelta(seconds=60),
                retry_policy=DELIVERY_RETRY,
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

    # --- helpers -------------------------------------------------------------------

    def _context(self) -> Context:
        return Context(
            start=self._start,
            state=self._state,
            clock=workflow.now,
            new_id=lambda: str(workflow.uuid4()),
        )

    def _history_is_long(self) -> bool:
        """An agreement lives for years: its history is cut short, run after run."""
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() >= self._start.timings.history_limit
        )

    @property
    def status(self) -> AgreementStatus:
        assert self._state.status is not None
        return self._state.status

    def _result(self) -> UpdateResult:
        return UpdateResult(
            agreement_id=self._start.agreement_id, status=self.status, seq=self._state.seq
        )

    def _track(self, opening: TaskOpening) -> None:
        self._state.open_tasks[opening.task_id] = OpenTask(
            opening=opening, created_at=workflow.now()
        )

    def _open_task(self, task_id: str) -> OpenTask:
        if self._state.status is None:
            raise rejected("agreement is not submitted yet", CommandRejected.NOT_SUBMITTED)
        task = self._state.open_tasks.get(task_id)
        if task is None:
            raise rejected("task is no longer open", CommandRejected.TASK_NOT_OPEN)
        return task

    def _decidable_task(self, decision: Decision) -> OpenTask:
        task = self._open_task(decision.task_id)
        allowed = OUTCOMES_BY_KIND[task.opening.kind]
        if decision.outcome not in allowed:
            raise rejected(
                f"outcome '{decision.outcome}' is not one of: {', '.join(sorted(allowed))}",
                CommandRejected.INVALID_OUTCOME,
            )
        if decision.actor_id in task.voters:
            raise rejected("you have already decided this task", CommandRejected.ALREADY_DECIDED)
        ctx = self._context()
        if isinstance(decision, ClearanceDecision | ConditionalClearance):
            clearance.check(ctx, decision)
        elif isinstance(decision, SignDecision | DeclineDecision):
            signature.check(ctx, decision)
        return task
