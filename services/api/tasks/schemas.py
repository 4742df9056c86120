"""Tasks as the API shows them: the unit of human work."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal, Self
from uuid import UUID

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from services.api.clearance.schemas import FindingOut
from services.api.signature.schemas import DocumentRef
from services.api.term.schemas import ObligationOut
from workflows.messages import (
    ClearanceOutcome,
    Comment,
    Reason,
    ReportSubmission,
    ReviewOutcome,
    SignatureOutcome,
    reject_nul,
)


class Assignee(BaseModel):
    type: Literal["user", "group"]
    id: str
    name: str


class DecisionOut(BaseModel):
    actor_id: str
    actor_name: str
    outcome: str
    comment: str
    decided_at: datetime


class TaskOut(BaseModel):
    id: str
    agreement_id: str
    agreement_title: str
    kind: str
    step_key: str
    step_name: str
    round: int
    assignee: Assignee
    approvals_required: int
    approvals: int
    status: str
    outcome: str | None
    due_at: datetime
    overdue: bool
    created_at: datetime
    closed_at: datetime | None
    decisions: list[DecisionOut] = Field(default_factory=list)
    findings: list[FindingOut] | None = Field(
        default=None, description="ip_clearance tasks: what the automatic checks found"
    )
    document: DocumentRef | None = Field(
        default=None, description="signature tasks: the document to read, and its hash to sign"
    )
    obligation: ObligationOut | None = Field(
        default=None, description="report tasks: the obligation the report meets"
    )


class TaskPage(BaseModel):
    items: list[TaskOut]
    next_cursor: str | None


_NEEDS_COMMENT = {
    ReviewOutcome.REJECT,
    ReviewOutcome.REQUEST_CHANGES,
    ClearanceOutcome.BLOCK,
    SignatureOutcome.DECLINE,
}


class DecisionIn(BaseModel):
    """One endpoint decides every kind of task; each outcome names what it needs."""

    outcome: str = Field(
        min_length=1,
        max_length=40,
        description=(
            "review: approve | reject | request_changes; "
            "ip_clearance: clear | clear_with_conditions | block; "
            "signature: sign | decline; report: submit"
        ),
    )
    comment: Comment = Field(
        default="",
        validate_default=True,
        description="Required to reject, request changes, block or decline",
    )
    conditions: list[Reason] = Field(
        default_factory=list,
        max_length=50,
        validate_default=True,
        description="clear_with_conditions: the conditions carried into the agreement",
    )
    document_sha256: str | None = Field(
        default=None,
        pattern=r"^[0-9a-f]{64}$",
        validate_default=True,
        description="sign: the SHA-256 of the document you read (a stale one is refused)",
    )
    report: ReportSubmission | None = Field(
        default=None, validate_default=True, description="submit: the report"
    )
    data: dict[str, Any] = Field(default_factory=dict)

    @field_validator("data")
    @classmethod
    def _storable(cls, data: dict[str, Any]) -> dict[str, Any]:
        if "\\u0000" in json.dumps(data):
            raise ValueError("must not contain NUL characters")
        return data

    @field_validator("comment")
    @classmethod
    def _reason_given(cls, comment: str, info: ValidationInfo) -> str:
        outcome = info.data.get("outcome")
        if outcome in _NEEDS_COMMENT and not comment.strip():
            raise ValueError(f"a comment is required to {outcome.replace('_', ' ')}")
        return comment

    @field_validator("conditions")
    @classmethod
    def _conditions_given(cls, conditions: list[str], info: ValidationInfo) -> list[str]:
        if info.data.get("outcome") == ClearanceOutcome.CLEAR_WITH_CONDITIONS and not conditions:
            raise ValueError("clear_with_conditions needs at least one condition")
        return conditions

    @field_validator("document_sha256")
    @classmethod
    def _hash_given(cls, digest: str | None, info: ValidationInfo) -> str | None:
        if info.data.get("outcome") == SignatureOutcome.SIGN and digest is None:
            raise ValueError("to sign, give the SHA-256 of the document you read")
        return digest

    @field_validator("report")
    @classmethod
    def _report_given(
        cls, report: ReportSubmission | None, info: ValidationInfo
    ) -> ReportSubmission | None:
        if info.data.get("outcome") == "submit" and report is None:
            raise ValueError("submit needs the report")
        return report


class AssignmentIn(BaseModel):
    """Hand an open task to one user or one group (by slug), optionally with a new due date."""

    user_id: UUID | None = None
    group: Annotated[str, AfterValidator(reject_nul)] | None = Field(
        default=None, min_length=1, max_length=64
    )
    due_at: AwareDatetime | None = Field(
        default=None, description="Must be in the future, and within a year"
    )
    reason: Reason

    @model_validator(mode="after")
    def _one_assignee(self) -> Self:
        if (self.user_id is None) == (self.group is None):
            raise ValueError("give either user_id or group")
        return self
