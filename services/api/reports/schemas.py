"""What the report endpoints return; the portfolio's models live in services.reports."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, Field

from services.api.agreements.schemas import PersonRef
from services.api.tasks.schemas import TaskOut


class TimelineEntry(BaseModel):
    seq: int
    type: str
    actor: str | None = Field(description="The actor's name; None for the system")
    from_status: str | None
    to_status: str
    at: datetime


class StageTime(BaseModel):
    stage: str
    days: float = Field(description="Summed over every stint; the current one counts to now")
    current: bool


class FindingLine(BaseModel):
    round: int
    kind: str
    severity: str
    subject: str
    summary: str
    status: str


class ObligationLine(BaseModel):
    kind: str
    name: str
    due_at: datetime
    status: str
    overdue: bool
    met_at: datetime | None
    income: Decimal | None
    units: int | None
    sublicenses: int | None


class SignatureLine(BaseModel):
    signer: PersonRef
    on_behalf_of: str
    order: int
    signed_at: datetime


class AgreementStatusReport(BaseModel):
    """One agreement on one page: where it stands, how it got there, what is pending."""

    id: str
    title: str
    kind: str
    status: str
    stage: str
    officer: PersonRef
    effective_at: datetime | None
    ends_at: datetime | None
    timeline: list[TimelineEntry]
    stage_days: list[StageTime] = Field(
        description="Days in each stage visited, in lifecycle order; time closed is not counted"
    )
    open_tasks: list[TaskOut]
    overdue_tasks: list[TaskOut] = Field(description="Open tasks past their due date")
    findings: list[FindingLine]
    obligations: list[ObligationLine]
    signatures: list[SignatureLine]
    generated_at: datetime
