"""Tasks as the API shows them: the unit of human work."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, Self
from uuid import UUID

from fastapi.exceptions import RequestValidationError
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from services.api.clearance.schemas import FindingOut
from services.api.signature.schemas import DocumentRef
from services.api.term.schemas import ObligationOut
from workflows.clearance.messages import Conditions
from workflows.core.fields import Comment, Reason, Sha256, reject_nul
from workflows.decisions import DECISION, Decision
from workflows.term.messages import ReportSubmission


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


class DecisionIn(BaseModel):
    """One endpoint decides every kind of task; each outcome names what it needs.

    The body is flat, as clients send it; `typed` makes it the stage's decision
    (`workflows.decisions.Decision`), whose rules (a reason to say no, conditions to
    clear on, the hash to sign) are checked there, once."""

    model_config = ConfigDict(extra="forbid")

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
        default="", description="Required to reject, request changes, block or decline"
    )
    conditions: Conditions = Field(
        default_factory=list,
        description="clear_with_conditions: the conditions carried into the agreement",
    )
    document_sha256: Sha256 | None = Field(
        default=None,
        description="sign: the SHA-256 of the document you read (a stale one is refused)",
    )
    report: ReportSubmission | None = Field(default=None, description="submit: the report")

    def typed(self, task_id: str, actor_id: str, **facts: str | None) -> Decision:
        """The decision as its stage types it; a broken rule is a 422 on its field."""
        given = self.model_dump(exclude_none=True, exclude_defaults=True)
        try:
            return DECISION.validate_python(
                given | {"outcome": self.outcome, "task_id": task_id, "actor_id": actor_id} | facts
            )
        except ValidationError as err:
            raise RequestValidationError(
                [
                    {
                        "type": e["type"],
                        # The first location is the union's tag (the outcome): the body is flat.
                        "loc": ("body", *e["loc"][1:]),
                        "msg": e["msg"],
                        "input": e["input"],
                    }
                    for e in err.errors(include_url=False)
                ]
            ) from None


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
