"""A transition: one change of an agreement, written by one activity in one transaction.

A stage describes what a decision or a timer changes as a `Step`; the orchestrator
numbers it, records it (`persist_transition`), then updates its state and hands off
to the next stage if the step says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from workflows.clearance.messages import Finding, FindingDismissal
from workflows.core.commands import DecisionBase, Vote
from workflows.core.documents import StoredDocument
from workflows.core.notices import Event, Notice, NoticeKind
from workflows.core.proposal import Proposal
from workflows.core.state import AgreementStart, Context
from workflows.core.statuses import AgreementStatus
from workflows.core.tasks import OpenTask, TaskClosing, TaskOpening, close_all
from workflows.signature.messages import SignatureRecord
from workflows.term.messages import Obligation


class Change(BaseModel):
    """What one transition writes: the event, the status it leads to, and every row."""

    event_type: str
    to_status: AgreementStatus
    actor_id: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)
    create: AgreementStart | None = None
    revised: Proposal | None = None
    revision_number: int | None = None
    votes: list[Vote] = Field(default_factory=list)
    closes: list[TaskClosing] = Field(default_factory=list)
    opens: list[TaskOpening] = Field(default_factory=list)
    reassigns: list[TaskOpening] = Field(default_factory=list)
    notices: list[Notice] = Field(default_factory=list)
    reminded_task_id: str | None = None
    escalated_task_id: str | None = None
    findings: list[Finding] = Field(default_factory=list)
    dismissals: list[FindingDismissal] = Field(default_factory=list)
    conditions: list[str] | None = None
    document: StoredDocument | None = None
    effective_at: datetime | None = None
    ends_at: datetime | None = None
    obligations: list[Obligation] = Field(default_factory=list, description="Upserted by id")
    signatures: list[SignatureRecord] = Field(default_factory=list)
    licenses: str | None = Field(
        default=None, description="grant: record the agreement's licenses; end: close them"
    )


class Transition(Change):
    """A change as numbered and recorded: what `persist_transition` receives."""

    key: str = Field(description="workflow id + step: a retried write is applied once")
    seq: int = Field(ge=1, description="per-agreement event number, gapless")
    agreement_id: str
    at: datetime
    from_status: AgreementStatus | None


class PersistedTransition(BaseModel):
    seq: int
    notification_ids: list[str]


class Handoff(StrEnum):
    """Where the lifecycle goes after a step: the orchestrator calls that stage."""

    CLEARANCE = "clearance"  # run the IP checks and open counsel's task
    SIGNATURE = "signature"  # send the envelope; the signature stage completes the change
    TERM = "term"  # render the signed copy and start the term


@dataclass
class Step:
    """A stage's answer: the change to record, the state to keep once it is recorded
    (tasks opened and closed are tracked from the change itself), and what comes next."""

    change: Change
    commit: Callable[[], None] | None = None
    then: Handoff | None = None


@dataclass
class Timer:
    """A moment at which a stage changes the agreement by itself."""

    at: datetime
    fire: Callable[[], Step]


def decided(
    task: OpenTask,
    decision: DecisionBase,
    event_type: str,
    to_status: AgreementStatus,
    *,
    data: dict[str, Any] | None = None,
    **parts: Any,
) -> Change:
    """The change a decision makes: its vote recorded, its facts on the timeline."""
    return Change(
        event_type=event_type,
        to_status=to_status,
        actor_id=decision.actor_id,
        votes=[
            Vote(
                task_id=decision.task_id,
                actor_id=decision.actor_id,
                outcome=decision.outcome,
                comment=decision.comment,
                data=decision.details(),
            )
        ],
        data={
            "task_id": task.opening.task_id,
            "step": task.opening.step_key,
            "outcome": decision.outcome,
            "comment": decision.comment,
        }
        | (data or {}),
        **parts,
    )


def decided_for_all(
    ctx: Context,
    task: OpenTask,
    decision: DecisionBase,
    event_type: str,
    to_status: AgreementStatus,
    event: Event,
    kind: NoticeKind = NoticeKind.OUTCOME,
) -> Change:
    """A decision that ends the round (reject, request changes, block, decline): every
    open task closes, and the officer hears why."""
    return decided(
        task,
        decision,
        event_type,
        to_status,
        closes=close_all(ctx.state.open_tasks, task.opening.task_id, decision.outcome),
        notices=[ctx.notices.to_officer(event, decision.comment, kind=kind)],
    )
