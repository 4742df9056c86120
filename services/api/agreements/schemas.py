"""What the API returns about agreements: never an ORM object."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, Field

from services.api.signature.schemas import DocumentRef
from services.api.tasks.schemas import TaskOut
from workflows.core.fields import Reason
from workflows.core.proposal import ExportControl, Party, Signatory


class PersonRef(BaseModel):
    id: str
    name: str


class AgreementSummary(BaseModel):
    id: str
    title: str
    kind: str
    status: str
    stage: str
    officer: PersonRef
    parties: list[Party]
    estimated_value: Decimal
    currency: str
    revision: int
    created_at: datetime
    updated_at: datetime
    status_changed_at: datetime
    days_in_stage: float = Field(description="Days since the agreement entered its status")


StepStatus = Literal[
    "not_reached",
    "in_progress",
    "approved",
    "rejected",
    "changes_requested",
    "cancelled",
    "expired",
]


class ReviewStepOut(BaseModel):
    key: str
    name: str
    group: str
    approvals_required: int
    status: StepStatus
    task_id: str | None


class AgreementDetail(AgreementSummary):
    summary: str
    ip_assets: list[str]
    terms: dict[str, Any]
    signatories: list[Signatory]
    export_control: ExportControl | None
    conditions: list[str] = Field(description="Set by IP counsel; carried into the document")
    document: DocumentRef | None = Field(description="The document under signature, or signed")
    effective_at: datetime | None
    ends_at: datetime | None
    overdue_obligations: int = Field(description="Obligations that went overdue and are unmet")
    policy_version: str | None
    workflow_id: str
    open_tasks: list[TaskOut]
    review_steps: list[ReviewStepOut] = Field(
        description="The current review round's plan, step by step"
    )


class AgreementPage(BaseModel):
    items: list[AgreementSummary]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page")


class EventOut(BaseModel):
    seq: int
    type: str
    actor: PersonRef | None
    from_status: str | None
    to_status: str
    data: dict[str, Any]
    at: datetime


class Withdrawal(BaseModel):
    reason: Reason


class Termination(BaseModel):
    reason: Reason
