"""Tasks as the API shows them: the unit of human work."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal, Self
from uuid import UUID

from pydantic import (
    AwareDatetime,
    BaseModel,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from workflows.messages import Comment, Reason, ReviewOutcome


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


class TaskPage(BaseModel):
    items: list[TaskOut]
    next_cursor: str | None


_NEEDS_COMMENT = {ReviewOutcome.REJECT, ReviewOutcome.REQUEST_CHANGES}


class DecisionIn(BaseModel):
    outcome: str = Field(
        min_length=1,
        max_length=40,
        description="review: approve | reject | request_changes",
    )
    comment: Comment = Field(default="", validate_default=True)
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


class AssignmentIn(BaseModel):
    """Hand an open task to one user or one group (by slug), optionally with a new due date."""

    user_id: UUID | None = None
    group: str | None = Field(default=None, min_length=1, max_length=64)
    due_at: AwareDatetime | None = Field(default=None, description="Must be in the future")
    reason: Reason

    @model_validator(mode="after")
    def _one_assignee(self) -> Self:
        if (self.user_id is None) == (self.group is None):
            raise ValueError("give either user_id or group")
        return self
