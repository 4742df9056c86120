"""The term: what an active agreement obliges, and the reports that meet it."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

from workflows.core.commands import DecisionBase
from workflows.core.fields import MONEY, Text, reject_nul


class ReportOutcome(StrEnum):
    SUBMIT = "submit"


class ObligationKind(StrEnum):
    REPORT = "report"
    MILESTONE = "milestone"


class ObligationStatus(StrEnum):
    PENDING = "pending"
    OPEN = "open"
    MET = "met"
    MISSED = "missed"
    CANCELLED = "cancelled"


class Attachment(BaseModel):
    name: Text
    url: Annotated[
        str,
        StringConstraints(pattern=r"^https?://\S+$", max_length=2000),
        AfterValidator(reject_nul),
    ]


class ReportSubmission(BaseModel):
    """What an officer submits on a report task."""

    model_config = ConfigDict(extra="forbid")

    narrative: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000),
        AfterValidator(reject_nul),
    ]
    income: Decimal | None = Field(
        default=None, ge=0, max_digits=18, decimal_places=2, json_schema_extra=MONEY
    )
    # Bounded by the database's INTEGER column: a larger figure is a 422, not a write
    # that fails on every retry.
    units: int | None = Field(default=None, ge=0, le=2**31 - 1)
    sublicenses: int | None = Field(default=None, ge=0, le=2**31 - 1)
    attachments: list[Attachment] = Field(default_factory=list, max_length=20)


class Obligation(BaseModel):
    id: str
    kind: ObligationKind
    name: str
    due_at: datetime
    opens_at: datetime
    status: ObligationStatus = ObligationStatus.PENDING
    overdue: bool = False
    task_id: str | None = None
    met_at: datetime | None = None
    report: ReportSubmission | None = None


class ReportDecision(DecisionBase):
    outcome: Literal["submit"]
    report: ReportSubmission | None = Field(
        default=None, validate_default=True, description="The report"
    )

    @field_validator("report")
    @classmethod
    def _report_given(cls, report: ReportSubmission | None) -> ReportSubmission | None:
        if report is None:
            raise ValueError("submit needs the report")
        return report
