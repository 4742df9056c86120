"""IP clearance: what the automatic checks find, and counsel's decision."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, field_validator

from workflows.core.commands import DecisionBase, Id
from workflows.core.fields import Reason
from workflows.core.proposal import Proposal


class ClearanceOutcome(StrEnum):
    CLEAR = "clear"
    CLEAR_WITH_CONDITIONS = "clear_with_conditions"
    BLOCK = "block"


class FindingKind(StrEnum):
    ASSET_NOT_REGISTERED = "asset_not_registered"
    ASSET_LAPSED = "asset_lapsed"
    ASSIGNMENT_MISSING = "assignment_missing"
    LICENSE_CONFLICT = "license_conflict"
    GOVERNMENT_RIGHTS = "government_rights"
    SPONSOR_RIGHTS = "sponsor_rights"
    US_MANUFACTURE = "us_manufacture"
    SCREENING_HIT = "screening_hit"
    EXPORT_CLASSIFICATION_MISSING = "export_classification_missing"
    EXPORT_LICENSE_MISSING = "export_license_missing"


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class Finding(BaseModel):
    """One result of the automatic IP checks, with what it rests on."""

    id: str | None = Field(default=None, description="Given by the workflow when it records it")
    kind: FindingKind
    severity: Severity
    subject: str = Field(description="The asset identifier or the party name concerned")
    summary: str
    evidence: dict[str, Any] = Field(default_factory=dict)
    # Screening hits only: the list entry and the party it matched, so a counsel's
    # false-positive decision can be remembered for that pair.
    screening_entry_id: str | None = None
    party_key: str | None = None


class ClearanceCheck(BaseModel):
    agreement_id: str
    proposal: Proposal


class ClearanceReport(BaseModel):
    findings: list[Finding]
    counsel_group_id: str
    screening_list: str | None = Field(description="Version of the screening list used")


class FindingDismissal(BaseModel):
    """A counsel marks a screening hit a false positive; it is remembered for the pair."""

    finding_id: Id
    actor_id: Id
    reason: Reason


# Counsel's conditions, carried into the agreement.
Conditions = Annotated[list[Reason], Field(max_length=50)]


class ClearanceDecision(DecisionBase):
    """Clear, or block with a reason."""

    outcome: Literal["clear", "block"]

    needs_reason = frozenset({ClearanceOutcome.BLOCK})


class ConditionalClearance(DecisionBase):
    """Clear on conditions, which the agreement carries."""

    outcome: Literal["clear_with_conditions"]
    conditions: Conditions = Field(
        default_factory=list,
        validate_default=True,
        description="The conditions carried into the agreement",
    )

    @field_validator("conditions")
    @classmethod
    def _conditions_given(cls, conditions: list[str]) -> list[str]:
        if not conditions:
            raise ValueError("clear_with_conditions needs at least one condition")
        return conditions
