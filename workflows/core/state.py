"""What an agreement's workflow starts from and carries: its start, its state (one
object, carried whole across continue-as-new), and the context a stage reads."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from workflows.clearance.messages import Finding
from workflows.core.commands import Id
from workflows.core.documents import StoredDocument
from workflows.core.notices import Notices
from workflows.core.proposal import Proposal
from workflows.core.statuses import AgreementStatus
from workflows.core.tasks import OpenTask
from workflows.review.messages import ReviewPlan
from workflows.signature.messages import ResolvedSignatory, SignatureRecord
from workflows.term.messages import Obligation


class Timings(BaseModel):
    """Deadlines and reminder timing, read from settings when the workflow starts."""

    reminder_share: float = Field(gt=0, lt=1)
    escalation_grace_seconds: float = Field(ge=0)
    clearance_sla_seconds: float = Field(default=5 * 86400, gt=0)
    signature_validity_seconds: float = Field(default=30 * 86400, gt=0)
    report_lead_seconds: float = Field(
        default=30 * 86400, gt=0, description="A report task opens this long before it is due"
    )
    history_limit: int = Field(
        default=10_000,
        ge=100,
        description="Continue as new past this many history events (or when Temporal suggests)",
    )


class AgreementStart(BaseModel):
    agreement_id: Id
    officer_id: Id
    proposal: Proposal
    timings: Timings
    idempotency_key: str | None = Field(default=None, max_length=200)
    request_hash: str | None = Field(default=None, max_length=64)


class AgreementState(BaseModel):
    """Everything the workflow knows about its agreement, stage by stage; continue-as-new
    carries it to the next run (`AgreementInput.resume`). The status is None only
    before the first write."""

    status: AgreementStatus | None = None
    seq: int = 0
    revision: int = 0
    proposal: Proposal
    open_tasks: dict[str, OpenTask] = Field(default_factory=dict)
    # Review: the plan and the step under way.
    plan: ReviewPlan | None = None
    step_index: int = 0
    # IP clearance: the findings still open (a dismissed one leaves), counsel's conditions.
    findings: dict[str, Finding] = Field(default_factory=dict)
    conditions: list[str] = Field(default_factory=list)
    # Signature: the document under signature, who signs in which order, who has.
    document: StoredDocument | None = None
    signatories: list[ResolvedSignatory] = Field(default_factory=list)
    signatures: list[SignatureRecord] = Field(default_factory=list)
    envelope_expires_at: datetime | None = None
    # Term: its dates and what it obliges.
    effective_at: datetime | None = None
    ends_at: datetime | None = None
    obligations: list[Obligation] = Field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """What the workflow's `snapshot` query answers."""
        return {
            "status": self.status,
            "seq": self.seq,
            "revision": self.revision,
            "open_tasks": sorted(self.open_tasks),
            "findings": sorted(self.findings),
            "obligations": {o.id: o.status for o in self.obligations},
        }


class AgreementInput(BaseModel):
    start: AgreementStart
    resume: AgreementState | None = None


@dataclass
class Context:
    """What a stage reads to decide what happens: the agreement as started, its state,
    the workflow's clock and its (replay-safe) id source."""

    start: AgreementStart
    state: AgreementState
    clock: Callable[[], datetime]
    new_id: Callable[[], str]

    @property
    def now(self) -> datetime:
        return self.clock()

    @property
    def status(self) -> AgreementStatus:
        assert self.state.status is not None
        return self.state.status

    @property
    def notices(self) -> Notices:
        return Notices(self.start.agreement_id, self.state.proposal)
