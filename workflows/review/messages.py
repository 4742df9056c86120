"""Review: the steps a proposal goes through, and a reviewer's decision."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, Field

from workflows.core.commands import DecisionBase


class ReviewOutcome(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    REQUEST_CHANGES = "request_changes"


class ReviewDecision(DecisionBase):
    outcome: Literal["approve", "reject", "request_changes"]

    needs_reason = frozenset({ReviewOutcome.REJECT, ReviewOutcome.REQUEST_CHANGES})


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

    def recorded(self) -> dict[str, object]:
        """The plan as the timeline records it, so readers can show the steps still ahead."""
        return {
            "policy_version": self.policy_version,
            "steps": [
                {
                    "key": step.key,
                    "name": step.name,
                    "group": step.group_slug,
                    "approvals_required": step.approvals_required,
                }
                for step in self.steps
            ],
        }
