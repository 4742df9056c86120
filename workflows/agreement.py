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

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from workflows.messages import (
        OUTCOMES_BY_KIND,
        AgreementInput,
        AgreementStatus,
        Decision,
        Notice,
        NoticeKind,
        OpenTask,
        PersistedTransition,
        Proposal,
        Reassignment,
        ReviewOutcome,
        ReviewPlan,
        RevisionCommand,
        Snapshot,
        TaskClosing,
        TaskKind,
        TaskOpening,
        TaskStatus,
        Transition,
        UpdateResult,
        WithdrawalCommand,
    )

PLAN_REVIEW = "plan_review"
PERSIST_TRANSITION = "persist_transition"
DELIVER_NOTIFICATIONS = "deliver_notifications"

# Writes retry until the database is back; only a non-retryable error stops them.
_WRITE_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=30)
)
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
        resume = params.resume
        self._status: AgreementStatus | None = resume.status if resume else None
        self._seq = resume.seq if resume else 0
        self._revision = resume.revision if resume else 0
        self._proposal = resume.proposal if resume else params.start.proposal
        self._plan: ReviewPlan | None = resume.plan if resume else None
        self._step_index = resume.step_index if resume else 0
        self._open: dict[str, OpenTask] = dict(resume.open_tasks) if resume else {}

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
            if workflow.info().is_continue_as_new_suggested():
                await self._finish_deliveries()
                # Nothing may run between this condition and continue_as_new: no await.
                await workflow.wait_condition(
                    lambda: not self._lock.locked() and workflow.all_handlers_finished()
                )
                workflow.continue_as_new(AgreementInput(start=self._start, resume=self._snapshot()))
            await self._sleep_until_next_notice()
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._finish_deliveries()
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
            opening = task.opening
            base = dict(
                actor_id=command.actor_id,
                votes=[command],
                data={
                    "task_id": opening.task_id,
                    "step": opening.step_key,
                    "outcome": command.outcome,
                    "comment": command.comment,
                },
            )
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
            return self._result()

    @decide.validator
    def _validate_decide(self, command: Decision) -> None:
        self._decidable_task(command)

    @workflow.update
    async def revise(self, command: RevisionCommand) -> UpdateResult:
        async with self._lock:
            self._require_status(AgreementStatus.CHANGES_REQUESTED, "revised")
            proposal = command.revision.apply_to(self._proposal)
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
        self._open_task(command.task_id)
        if (command.user_id is None) == (command.group_id is None):
            raise ApplicationError(
                "name either a user or a group", type=CommandRejected.INVALID_ASSIGNEE
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

    @workflow.query
    def snapshot(self) -> dict[str, Any]:
        return {
            "status": self._status,
            "seq": self._seq,
            "revision": self._revision,
            "open_tasks": sorted(self._open),
        }

    # --- lifecycle steps ---------------------------------------------------------------

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
        else:
            await self._apply(
                event_type="review_completed",
                to_status=AgreementStatus.IP_CLEARANCE,
                closes=closes,
                notices=[self._officer_notice(NoticeKind.OUTCOME, "approved in review", "")],
                **base,
            )
            del self._open[opening.task_id]

    async def _sleep_until_next_notice(self) -> None:
        due = self._next_notice_at()
        self._changed = False
        if due is not None and due <= workflow.now():
            async with self._lock:
                await self._send_due_notices()
            return
        timeout = None if due is None else (due - workflow.now())
        try:
            await workflow.wait_condition(lambda: self._changed, timeout=timeout)
        except TimeoutError:
            async with self._lock:
                await self._send_due_notices()

    def _notice_times(self, task: OpenTask) -> list[tuple[str, datetime]]:
        timings = self._start.timings
        created, due = task.created_at, task.opening.due_at
        return [
            ("reminder", created + (due - created) * timings.reminder_share),
            ("due", due),
            ("escalation", due + timedelta(seconds=timings.escalation_grace_seconds)),
        ]

    def _next_notice_at(self) -> datetime | None:
        pending = [
            at
            for task in self._open.values()
            for name, at in self._notice_times(task)
            if name not in task.notices_sent
        ]
        return min(pending, default=None)

    async def _send_due_notices(self) -> None:
        now = workflow.now()
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
        when = "is due now" if name == "due" else f"is due {due}"
        notice = Notice(
            kind=NoticeKind.REMINDER,
            audience="assignees",
            task_id=opening.task_id,
            subject=f"Reminder: {opening.step_name} for '{title}' {when}",
            body=f"Please decide the task '{opening.step_name}' on '{title}'; it {when}.",
        )
        return dict(
            event_type="reminder",
            to_status=self.status,
            notices=[notice],
            reminded_task_id=opening.task_id,
            data={"task_id": opening.task_id, "step": opening.step_key, "reminder": name},
        )

    # --- helpers -----------------------------------------------------------------------

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

    async def _finish_deliveries(self) -> None:
        if self._deliveries:
            await asyncio.gather(*self._deliveries)
            self._deliveries.clear()

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
        return task

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

    def _snapshot(self) -> Snapshot:
        return Snapshot(
            status=self.status,
            seq=self._seq,
            revision=self._revision,
            proposal=self._proposal,
            plan=self._plan,
            step_index=self._step_index,
            open_tasks=self._open,
        )
