"""Review: plan the steps, open each step's task, count votes, and hand a proposal
approved at every step to IP clearance."""

from __future__ import annotations

from datetime import timedelta

from workflows.core.activities import call
from workflows.core.commands import RevisionCommand
from workflows.core.notices import Event, NoticeKind
from workflows.core.proposal import Proposal
from workflows.core.state import Context
from workflows.core.statuses import AgreementStatus, TaskKind
from workflows.core.tasks import OpenTask, TaskOpening, done
from workflows.core.transition import Change, Handoff, Step, decided, decided_for_all
from workflows.review.messages import ReviewDecision, ReviewOutcome, ReviewPlan

PLAN_REVIEW = "plan_review"
ACTIVITIES = (PLAN_REVIEW,)


async def plan(proposal: Proposal) -> ReviewPlan:
    """The steps this proposal needs, from the review policy (an activity)."""
    return await call(PLAN_REVIEW, proposal, ReviewPlan)


def opening(ctx: Context, plan: ReviewPlan, index: int, round_: int) -> TaskOpening:
    step = plan.steps[index]
    return TaskOpening(
        task_id=ctx.new_id(),
        kind=TaskKind.REVIEW,
        step_key=step.key,
        step_name=step.name,
        round=round_,
        group_id=step.group_id,
        approvals_required=step.approvals_required,
        due_at=ctx.now + timedelta(seconds=step.sla_seconds),
    )


def submitted(ctx: Context, plan: ReviewPlan) -> Step:
    """The agreement is stored with its first review task."""
    first = opening(ctx, plan, 0, 0)

    def keep() -> None:
        ctx.state.plan = plan

    return Step(
        Change(
            event_type="submitted",
            to_status=AgreementStatus.IN_REVIEW,
            actor_id=ctx.start.officer_id,
            create=ctx.start,
            opens=[first],
            notices=[ctx.notices.assigned(first)],
            data=plan.recorded(),
        ),
        commit=keep,
    )


def revised(ctx: Context, command: RevisionCommand, proposal: Proposal, plan: ReviewPlan) -> Step:
    """The officer's revision starts the review again, planned afresh."""
    state = ctx.state
    first = opening(ctx, plan, 0, state.revision + 1)

    def keep() -> None:
        state.proposal, state.plan, state.step_index = proposal, plan, 0
        state.revision += 1

    return Step(
        Change(
            event_type="revised",
            to_status=AgreementStatus.IN_REVIEW,
            actor_id=command.actor_id,
            revised=proposal,
            revision_number=state.revision + 1,
            opens=[first],
            notices=[ctx.notices.assigned(first)],
            data={
                "changed": command.revision.changed_fields(),
                "comment": command.revision.comment,
                **plan.recorded(),
            },
        ),
        commit=keep,
    )


def decide(ctx: Context, task: OpenTask, decision: ReviewDecision) -> Step:
    state = ctx.state
    opening_ = task.opening
    if decision.outcome == ReviewOutcome.REJECT:
        return Step(
            decided_for_all(
                ctx, task, decision, "rejected", AgreementStatus.REJECTED, Event.REJECTED
            )
        )
    if decision.outcome == ReviewOutcome.REQUEST_CHANGES:
        return Step(
            decided_for_all(
                ctx,
                task,
                decision,
                "changes_requested",
                AgreementStatus.CHANGES_REQUESTED,
                Event.RETURNED,
                NoticeKind.CHANGES_REQUESTED,
            )
        )
    approvals = len(task.voters) + 1
    counted = {"approvals": approvals, "approvals_required": opening_.approvals_required}
    if approvals < opening_.approvals_required:
        return Step(
            decided(task, decision, "review_vote", ctx.status, data=counted),
            commit=lambda: task.voters.append(decision.actor_id),
        )
    assert state.plan is not None
    closes = done(opening_.task_id, "approve")
    next_index = state.step_index + 1
    if next_index < len(state.plan.steps):
        following = opening(ctx, state.plan, next_index, state.revision)

        def advance() -> None:
            state.step_index = next_index

        return Step(
            decided(
                task,
                decision,
                "review_step_approved",
                AgreementStatus.IN_REVIEW,
                data=counted,
                closes=closes,
                opens=[following],
                notices=[ctx.notices.assigned(following)],
            ),
            commit=advance,
        )
    return Step(
        decided(
            task,
            decision,
            "review_completed",
            AgreementStatus.IP_CLEARANCE,
            data=counted,
            closes=closes,
            notices=[ctx.notices.to_officer(Event.APPROVED)],
        ),
        then=Handoff.CLEARANCE,
    )
