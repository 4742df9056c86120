"""Commands the API sends the workflow, what it answers, and why it refuses."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from temporalio.exceptions import ApplicationError

from workflows.core.fields import Comment, Reason
from workflows.core.proposal import ProposalRevision
from workflows.core.statuses import AgreementStatus

Id = Annotated[str, StringConstraints(min_length=1, max_length=64)]


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


def rejected(message: str, kind: str) -> ApplicationError:
    """A refusal the caller reads: raise it from a validator or a handler."""
    return ApplicationError(message, type=kind)


def require_status(status: AgreementStatus | None, expected: AgreementStatus, action: str) -> None:
    if status != expected:
        raise rejected(
            f"agreement is {status}; it can be {action} only when {expected}",
            CommandRejected.WRONG_STATUS,
        )


class DecisionBase(BaseModel):
    """What every decision on a task carries. Each stage adds its outcomes and fields;
    `workflows.decisions.Decision` is their union, told apart by `outcome`."""

    model_config = ConfigDict(extra="ignore")

    task_id: Id
    actor_id: Id
    outcome: str
    comment: Comment = Field(
        default="",
        validate_default=True,
        description="Required to reject, request changes, block or decline",
    )

    # The outcomes that say no, and so need a reason in the comment.
    needs_reason: ClassVar[frozenset[str]] = frozenset()

    @field_validator("comment")
    @classmethod
    def _reason_to_say_no(cls, comment: str, info: ValidationInfo) -> str:
        outcome = info.data.get("outcome")
        if outcome in cls.needs_reason and not comment.strip():
            raise ValueError(f"a comment is required to {str(outcome).replace('_', ' ')}")
        return comment

    @model_validator(mode="before")
    @classmethod
    def _from_recorded_shape(cls, value: Any) -> Any:
        """Decisions recorded before they were typed carried their details in a `data`
        dict; a history replaying them still sends that shape."""
        if isinstance(value, dict) and isinstance(value.get("data"), dict):
            rest = {k: v for k, v in value.items() if k != "data"}
            return value["data"] | rest
        return value

    def details(self) -> dict[str, Any]:
        """What the decision records beside its outcome and comment."""
        return self.model_dump(mode="json", exclude={"task_id", "actor_id", "outcome", "comment"})


class Vote(BaseModel):
    """A decision as the projection records it: one row per person and task."""

    task_id: str
    actor_id: str
    outcome: str
    comment: str = ""
    data: dict[str, Any] = Field(default_factory=dict)


class RevisionCommand(BaseModel):
    actor_id: Id
    revision: ProposalRevision


class Reassignment(BaseModel):
    """An admin hands an open task to another user or group, possibly with a new due date."""

    task_id: Id
    actor_id: Id
    user_id: Id | None = None
    group_id: Id | None = None
    due_at: datetime | None = None
    reason: Reason


class WithdrawalCommand(BaseModel):
    actor_id: Id
    reason: Comment = ""


class TerminationCommand(BaseModel):
    actor_id: Id
    reason: Reason


class UpdateResult(BaseModel):
    agreement_id: str
    status: AgreementStatus
    seq: int
