"""Types the agreement workflow exchanges with the API and its activities.

Everything here is a pydantic model so one definition validates the HTTP payload,
travels through Temporal (pydantic data converter) and reaches the activities.
This module must stay free of I/O imports: the workflow sandbox loads it.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL; refuse it at the edge rather than in a write.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def _upper(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


CountryCode = Annotated[
    str,
    BeforeValidator(_upper),
    StringConstraints(pattern=r"^[A-Z]{2}$"),
    Field(description="ISO 3166-1 alpha-2 country code, e.g. DE"),
]
Territory = Annotated[
    str,
    BeforeValidator(_upper),
    StringConstraints(pattern=r"^([A-Z]{2}|WW)$"),
    Field(description="ISO 3166-1 alpha-2 country code, or WW for worldwide"),
]
CurrencyCode = Annotated[
    str,
    BeforeValidator(_upper),
    StringConstraints(pattern=r"^[A-Z]{3}$"),
    Field(description="ISO 4217 currency code"),
]
Text = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(_no_nul),
]
LongText = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=10_000), AfterValidator(_no_nul)
]
Comment = Annotated[str, StringConstraints(max_length=5_000), AfterValidator(_no_nul)]
Reason = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=5_000),
    AfterValidator(_no_nul),
]


class AgreementKind(StrEnum):
    LICENSE = "license"
    OPTION = "option"
    TECHNOLOGY_TRANSFER = "technology_transfer"
    EXCHANGE_PROGRAM = "exchange_program"
    RESEARCH_COLLABORATION = "research_collaboration"
    MATERIAL_TRANSFER = "material_transfer"
    DEFENSE_SHARING = "defense_sharing"


class AgreementStatus(StrEnum):
    IN_REVIEW = "in_review"
    CHANGES_REQUESTED = "changes_requested"
    IP_CLEARANCE = "ip_clearance"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"

    @property
    def stage(self) -> str:
        return _STAGE_OF[self]

    @property
    def is_terminal(self) -> bool:
        return self in (AgreementStatus.REJECTED, AgreementStatus.WITHDRAWN)

    @property
    def may_withdraw(self) -> bool:
        """Officers may withdraw any time before signature."""
        return self in (
            AgreementStatus.IN_REVIEW,
            AgreementStatus.CHANGES_REQUESTED,
            AgreementStatus.IP_CLEARANCE,
        )


_STAGE_OF = {
    AgreementStatus.IN_REVIEW: "review",
    AgreementStatus.CHANGES_REQUESTED: "review",
    AgreementStatus.IP_CLEARANCE: "ip_clearance",
    AgreementStatus.REJECTED: "closed",
    AgreementStatus.WITHDRAWN: "closed",
}


class PartyRole(StrEnum):
    LICENSOR = "licensor"
    LICENSEE = "licensee"
    PROVIDER = "provider"
    RECIPIENT = "recipient"
    SPONSOR = "sponsor"
    COLLABORATOR = "collaborator"
    PARTNER = "partner"


class Party(BaseModel):
    name: Text
    country: CountryCode
    role: PartyRole


class Terms(BaseModel):
    exclusive: bool = False
    field_of_use: (
        Annotated[
            str, StringConstraints(strip_whitespace=True, max_length=500), AfterValidator(_no_nul)
        ]
        | None
    ) = None
    territories: list[Territory] = Field(default_factory=list, max_length=250)
    term_months: int = Field(ge=1, le=600)
    royalty_rate: Decimal | None = Field(default=None, ge=0, le=100, description="Percent")
    reporting_period_months: int | None = Field(default=None, ge=1, le=60)


class Proposal(BaseModel):
    """What a program officer submits."""

    model_config = ConfigDict(extra="forbid")

    title: Text
    kind: AgreementKind
    summary: LongText = ""
    parties: list[Party] = Field(min_length=1, max_length=50)
    ip_assets: list[Text] = Field(
        default_factory=list, max_length=100, description="Identifiers of registered IP assets"
    )
    terms: Terms
    estimated_value: Decimal = Field(ge=0, max_digits=18, decimal_places=2)
    currency: CurrencyCode = "USD"


class ProposalRevision(BaseModel):
    """The fields an officer changes when revising; unset fields stay as they were."""

    model_config = ConfigDict(extra="forbid")

    title: Text | None = None
    summary: LongText | None = None
    parties: list[Party] | None = Field(default=None, min_length=1, max_length=50)
    ip_assets: list[Text] | None = Field(default=None, max_length=100)
    terms: Terms | None = None
    estimated_value: Decimal | None = Field(default=None, ge=0, max_digits=18, decimal_places=2)
    currency: CurrencyCode | None = None
    comment: Comment = ""

    @model_validator(mode="after")
    def _changes_something(self) -> Self:
        if not self.changed_fields():
            raise ValueError("a revision must change at least one field")
        return self

    def changed_fields(self) -> list[str]:
        """Fields given a value. None means unchanged: the set of explicitly set fields
        does not survive serialization through Temporal, values do."""
        return [
            name
            for name in type(self).model_fields
            if name != "comment" and getattr(self, name) is not None
        ]

    def apply_to(self, proposal: Proposal) -> Proposal:
        return proposal.model_copy(
            update={name: getattr(self, name) for name in self.changed_fields()}
        )


class TaskKind(StrEnum):
    REVIEW = "review"


class TaskStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class ReviewOutcome(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    REQUEST_CHANGES = "request_changes"


OUTCOMES_BY_KIND: dict[TaskKind, frozenset[str]] = {
    TaskKind.REVIEW: frozenset(ReviewOutcome),
}


class ReviewStep(BaseModel):
    """One step of a review plan, resolved from the policy for one agreement."""

    key: str
    name: str
    group_id: str
    group_slug: str
    approvals_required: int = Field(ge=1)
    sla_seconds: float = Field(gt=0)


class ReviewPlan(BaseModel):
    policy_version: str
    steps: list[ReviewStep] = Field(min_length=1)


class Timings(BaseModel):
    """Reminder and escalation timing, read from settings when the workflow starts."""

    reminder_share: float = Field(gt=0, lt=1)
    escalation_grace_seconds: float = Field(ge=0)


class AgreementStart(BaseModel):
    agreement_id: str
    officer_id: str
    proposal: Proposal
    timings: Timings
    idempotency_key: str | None = None
    request_hash: str | None = None


class Decision(BaseModel):
    """One person's decision on a task: the command the API sends, and the vote recorded."""

    task_id: str
    actor_id: str
    outcome: str
    comment: str = ""
    data: dict[str, Any] = Field(default_factory=dict)


class RevisionCommand(BaseModel):
    actor_id: str
    revision: ProposalRevision


class Reassignment(BaseModel):
    """An admin hands an open task to another user or group, possibly with a new due date."""

    task_id: str
    actor_id: str
    user_id: str | None = None
    group_id: str | None = None
    due_at: datetime | None = None
    reason: str


class WithdrawalCommand(BaseModel):
    actor_id: str
    reason: str = ""


class UpdateResult(BaseModel):
    agreement_id: str
    status: AgreementStatus
    seq: int


# --- What the workflow asks the projection to write, one transaction a transition ---


class TaskOpening(BaseModel):
    task_id: str
    kind: TaskKind
    step_key: str
    step_name: str
    round: int
    group_id: str | None
    user_id: str | None = None
    approvals_required: int
    due_at: datetime


class TaskClosing(BaseModel):
    task_id: str
    status: TaskStatus
    outcome: str | None = None


class NoticeKind(StrEnum):
    TASK_ASSIGNED = "task_assigned"
    REMINDER = "reminder"
    ESCALATION = "escalation"
    CHANGES_REQUESTED = "changes_requested"
    OUTCOME = "outcome"


class Notice(BaseModel):
    """A message to send; the projection resolves the audience to users."""

    kind: NoticeKind
    audience: str = Field(description="assignees | escalation | officer")
    task_id: str | None = None
    subject: str
    body: str


class Transition(BaseModel):
    key: str = Field(description="workflow id + step: a retried write is applied once")
    seq: int = Field(ge=1, description="per-agreement event number, gapless")
    agreement_id: str
    at: datetime
    actor_id: str | None
    event_type: str
    from_status: AgreementStatus | None
    to_status: AgreementStatus
    data: dict[str, Any] = Field(default_factory=dict)
    create: AgreementStart | None = None
    revised: Proposal | None = None
    revision_number: int | None = None
    votes: list[Decision] = Field(default_factory=list)
    closes: list[TaskClosing] = Field(default_factory=list)
    opens: list[TaskOpening] = Field(default_factory=list)
    reassigns: list[TaskOpening] = Field(default_factory=list)
    notices: list[Notice] = Field(default_factory=list)
    reminded_task_id: str | None = None
    escalated_task_id: str | None = None


class PersistedTransition(BaseModel):
    seq: int
    notification_ids: list[str]


# --- Workflow state carried across continue-as-new ---


class OpenTask(BaseModel):
    opening: TaskOpening
    # When the reminder schedule started: the task's creation, or its last new due date.
    created_at: datetime
    voters: list[str] = Field(default_factory=list)
    notices_sent: list[str] = Field(default_factory=list)


class Snapshot(BaseModel):
    """What continue-as-new carries from one run to the next."""

    status: AgreementStatus
    seq: int
    revision: int
    proposal: Proposal
    plan: ReviewPlan | None
    step_index: int
    open_tasks: dict[str, OpenTask]


class AgreementInput(BaseModel):
    start: AgreementStart
    resume: Snapshot | None = None
