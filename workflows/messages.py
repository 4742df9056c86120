"""Types the agreement workflow exchanges with the API and its activities.

Everything here is a pydantic model so one definition validates the HTTP payload,
travels through Temporal (pydantic data converter) and reaches the activities.
This module must stay free of I/O imports: the workflow sandbox loads it.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)


def reject_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL; refuse it at the edge rather than in a write.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def upper_stripped(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


# The codes are upper-cased and stripped before their pattern is checked, which leaves
# the pattern out of the JSON schema; the document states it, for the letters as sent.
_LETTERS = "^[A-Za-z]{{{}}}$"

CountryCode = Annotated[
    str,
    BeforeValidator(upper_stripped),
    StringConstraints(pattern=r"^[A-Z]{2}$"),
    Field(
        description="ISO 3166-1 alpha-2 country code, e.g. DE",
        json_schema_extra={"pattern": _LETTERS.format(2)},
    ),
]
Territory = Annotated[
    str,
    BeforeValidator(upper_stripped),
    StringConstraints(pattern=r"^([A-Z]{2}|WW)$"),
    Field(
        description="ISO 3166-1 alpha-2 country code, or WW for worldwide",
        json_schema_extra={"pattern": _LETTERS.format(2)},
    ),
]
CurrencyCode = Annotated[
    str,
    BeforeValidator(upper_stripped),
    StringConstraints(pattern=r"^[A-Z]{3}$"),
    Field(description="ISO 4217 currency code", json_schema_extra={"pattern": _LETTERS.format(3)}),
]
# Decimals are documented as "a number, or any string"; a pattern (which JSON Schema
# applies to strings only) says which strings.
_DECIMAL: dict[str, Any] = {"pattern": r"^\d{1,20}(\.\d{1,20})?$"}
_MONEY: dict[str, Any] = {"pattern": r"^\d{1,16}(\.\d{1,2})?$"}

Text = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(reject_nul),
]
LongText = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=10_000), AfterValidator(reject_nul)
]
Comment = Annotated[str, StringConstraints(max_length=5_000), AfterValidator(reject_nul)]
Reason = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=5_000),
    AfterValidator(reject_nul),
]


class AgreementKind(StrEnum):
    LICENSE = "license"
    OPTION = "option"
    TECHNOLOGY_TRANSFER = "technology_transfer"
    EXCHANGE_PROGRAM = "exchange_program"
    RESEARCH_COLLABORATION = "research_collaboration"
    MATERIAL_TRANSFER = "material_transfer"
    DEFENSE_SHARING = "defense_sharing"


class AgreementStatus(StrEnum):
    IN_REVIEW = "in_review"
    CHANGES_REQUESTED = "changes_requested"
    IP_CLEARANCE = "ip_clearance"
    IN_SIGNATURE = "in_signature"
    ACTIVE = "active"
    COMPLETED = "completed"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    BLOCKED = "blocked"
    EXPIRED = "expired"
    TERMINATED = "terminated"

    @property
    def stage(self) -> str:
        return _STAGE_OF[self]

    @property
    def is_terminal(self) -> bool:
        return self.stage == "closed"

    @property
    def may_withdraw(self) -> bool:
        """Officers may withdraw any time before every signature is in."""
        return self in (
            AgreementStatus.IN_REVIEW,
            AgreementStatus.CHANGES_REQUESTED,
            AgreementStatus.IP_CLEARANCE,
            AgreementStatus.IN_SIGNATURE,
        )


_STAGE_OF = {
    AgreementStatus.IN_REVIEW: "review",
    AgreementStatus.CHANGES_REQUESTED: "review",
    AgreementStatus.IP_CLEARANCE: "ip_clearance",
    AgreementStatus.IN_SIGNATURE: "signature",
    AgreementStatus.ACTIVE: "active",
    AgreementStatus.COMPLETED: "closed",
    AgreementStatus.REJECTED: "closed",
    AgreementStatus.WITHDRAWN: "closed",
    AgreementStatus.BLOCKED: "closed",
    AgreementStatus.EXPIRED: "closed",
    AgreementStatus.TERMINATED: "closed",
}

# The stages in lifecycle order, for reports.
STAGES = ("review", "ip_clearance", "signature", "active", "closed")


class PartyRole(StrEnum):
    LICENSOR = "licensor"
    LICENSEE = "licensee"
    PROVIDER = "provider"
    RECIPIENT = "recipient"
    SPONSOR = "sponsor"
    COLLABORATOR = "collaborator"
    PARTNER = "partner"


class Party(BaseModel):
    name: Text
    country: CountryCode
    role: PartyRole


class Milestone(BaseModel):
    name: Text
    due_after_months: int = Field(ge=1, le=600, description="Months after the effective date")


class Terms(BaseModel):
    exclusive: bool = False
    field_of_use: (
        Annotated[
            str,
            StringConstraints(strip_whitespace=True, max_length=500),
            AfterValidator(reject_nul),
        ]
        | None
    ) = None
    territories: list[Territory] = Field(default_factory=list, max_length=250)
    term_months: int = Field(ge=1, le=600)
    royalty_rate: Decimal | None = Field(
        default=None, ge=0, le=100, description="Percent", json_schema_extra=_DECIMAL
    )
    reporting_period_months: int | None = Field(
        default=None, ge=1, le=60, description="A periodic report is due every this many months"
    )
    milestones: list[Milestone] = Field(default_factory=list, max_length=50)

    @model_validator(mode="after")
    def _milestones_within_term(self) -> Self:
        late = [m.name for m in self.milestones if m.due_after_months > self.term_months]
        if late:
            raise ValueError(f"milestones due after the end of the term: {', '.join(late)}")
        return self


class ExportJurisdiction(StrEnum):
    EAR = "EAR"
    ITAR = "ITAR"


_ECCN = r"[0-9][A-E][0-9]{3}(\.[a-z0-9.]+)?"
_USML = r"(XXI|XX|XIX|XVIII|XVII|XVI|XV|XIV|XIII|XII|XI|X|IX|VIII|VII|VI|V|IV|III|II|I)(\([a-z]\))?"


class ExportControl(BaseModel):
    """The export-control classification of what the agreement shares."""

    jurisdiction: ExportJurisdiction
    classification: Annotated[
        str,
        BeforeValidator(upper_stripped),
        Field(
            max_length=40,
            description="EAR: an ECCN (e.g. 3A001) or EAR99; ITAR: a USML category (e.g. XI)",
        ),
    ]
    license_number: Text | None = Field(
        default=None, description="The export license (or EAR license exception) relied on"
    )

    @model_validator(mode="after")
    def _classification_fits_jurisdiction(self) -> Self:
        import re

        pattern = (
            rf"^(EAR99|{_ECCN.upper()})$"
            if self.jurisdiction == ExportJurisdiction.EAR
            else rf"^(CATEGORY )?{_USML.upper()}$"
        )
        if not re.match(pattern, self.classification):
            expected = (
                "an ECCN such as 3A001, or EAR99"
                if self.jurisdiction == ExportJurisdiction.EAR
                else "a USML category such as XI or XI(A)"
            )
            raise ValueError(f"classification {self.classification!r} is not {expected}")
        return self

    @property
    def license_required(self) -> bool:
        """ITAR articles always need a license; under the EAR, anything with an ECCN does."""
        return self.classification != "EAR99"


class Signatory(BaseModel):
    """A person who signs, for one of the parties; equal orders sign in parallel."""

    email: Annotated[
        str,
        BeforeValidator(lambda v: v.strip().lower() if isinstance(v, str) else v),
        StringConstraints(pattern=r"^[^@\s]+@[^@\s]+$", max_length=254),
        AfterValidator(reject_nul),
    ]
    on_behalf_of: Text = Field(description="The name of the party this person signs for")
    order: int = Field(default=1, ge=1, le=20)


class Proposal(BaseModel):
    """What a program officer submits."""

    model_config = ConfigDict(extra="forbid")

    title: Text
    kind: AgreementKind
    summary: LongText = ""
    parties: list[Party] = Field(min_length=1, max_length=50)
    ip_assets: list[Text] = Field(
        default_factory=list, max_length=100, description="Identifiers of registered IP assets"
    )
    terms: Terms
    estimated_value: Decimal = Field(
        ge=0, max_digits=18, decimal_places=2, json_schema_extra=_MONEY
    )
    currency: CurrencyCode = "USD"
    signatories: list[Signatory] = Field(min_length=1, max_length=20)
    export_control: ExportControl | None = None

    @model_validator(mode="after")
    def _signatories_sign_for_parties(self) -> Self:
        _check_signatories(self.signatories, self.parties)
        return self


def _check_signatories(signatories: list[Signatory], parties: list[Party]) -> None:
    names = {party.name for party in parties}
    strangers = sorted({s.on_behalf_of for s in signatories} - names)
    if strangers:
        raise ValueError(f"signatories sign for parties not on the agreement: {strangers}")
    emails = [s.email for s in signatories]
    if len(set(emails)) != len(emails):
        raise ValueError("a signatory is named twice")


class ProposalRevision(BaseModel):
    """The fields an officer changes when revising; unset fields stay as they were."""

    model_config = ConfigDict(extra="forbid")

    title: Text | None = None
    summary: LongText | None = None
    parties: list[Party] | None = Field(default=None, min_length=1, max_length=50)
    ip_assets: list[Text] | None = Field(default=None, max_length=100)
    terms: Terms | None = None
    estimated_value: Decimal | None = Field(
        default=None, ge=0, max_digits=18, decimal_places=2, json_schema_extra=_MONEY
    )
    currency: CurrencyCode | None = None
    signatories: list[Signatory] | None = Field(default=None, min_length=1, max_length=20)
    export_control: ExportControl | None = None
    comment: Comment = ""

    @model_validator(mode="after")
    def _changes_something(self) -> Self:
        if not self.changed_fields():
            raise ValueError("a revision must change at least one field")
        return self

    def changed_fields(self) -> list[str]:
        """Fields given a value. None means unchanged: the set of explicitly set fields
        does not survive serialization through Temporal, values do."""
        return [
            name
            for name in type(self).model_fields
            if name != "comment" and getattr(self, name) is not None
        ]

    def apply_to(self, proposal: Proposal) -> Proposal:
        """The revised proposal, validated as a whole (signatories must still fit parties)."""
        changes = {name: getattr(self, name) for name in self.changed_fields()}
        return Proposal.model_validate(dict(proposal) | changes)


class TaskKind(StrEnum):
    REVIEW = "review"
    IP_CLEARANCE = "ip_clearance"
    SIGNATURE = "signature"
    REPORT = "report"


class TaskStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class ReviewOutcome(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    REQUEST_CHANGES = "request_changes"


class ClearanceOutcome(StrEnum):
    CLEAR = "clear"
    CLEAR_WITH_CONDITIONS = "clear_with_conditions"
    BLOCK = "block"


class SignatureOutcome(StrEnum):
    SIGN = "sign"
    DECLINE = "decline"


class ReportOutcome(StrEnum):
    SUBMIT = "submit"


OUTCOMES_BY_KIND: dict[TaskKind, frozenset[str]] = {
    TaskKind.REVIEW: frozenset(ReviewOutcome),
    TaskKind.IP_CLEARANCE: frozenset(ClearanceOutcome),
    TaskKind.SIGNATURE: frozenset(SignatureOutcome),
    TaskKind.REPORT: frozenset(ReportOutcome),
}


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
    agreement_id: str
    officer_id: str
    proposal: Proposal
    timings: Timings
    idempotency_key: str | None = None
    request_hash: str | None = None


class Decision(BaseModel):
    """One person's decision on a task: the command the API sends, and the vote recorded."""

    task_id: str
    actor_id: str
    outcome: str
    comment: str = ""
    data: dict[str, Any] = Field(default_factory=dict)


class RevisionCommand(BaseModel):
    actor_id: str
    revision: ProposalRevision


class Reassignment(BaseModel):
    """An admin hands an open task to another user or group, possibly with a new due date."""

    task_id: str
    actor_id: str
    user_id: str | None = None
    group_id: str | None = None
    due_at: datetime | None = None
    reason: str


class WithdrawalCommand(BaseModel):
    actor_id: str
    reason: str = ""


class TerminationCommand(BaseModel):
    actor_id: str
    reason: str


# --- IP clearance ------------------------------------------------------------------


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

    finding_id: str
    actor_id: str
    reason: str


# --- Signature ---------------------------------------------------------------------


class ResolvedSignatory(BaseModel):
    user_id: str
    name: str
    email: str
    on_behalf_of: str
    order: int


class SignatureRecord(BaseModel):
    task_id: str
    user_id: str
    name: str
    email: str
    on_behalf_of: str
    order: int
    signed_at: datetime
    ip_address: str | None = None
    user_agent: str | None = None
    document_sha256: str


class DocumentRequest(BaseModel):
    """What the agreement document is rendered from."""

    agreement_id: str
    revision: int
    proposal: Proposal
    conditions: list[str] = Field(default_factory=list)
    effective_at: datetime | None = None
    signatures: list[SignatureRecord] = Field(
        default_factory=list, description="Given for the signed copy: adds the signature page"
    )


class StoredDocument(BaseModel):
    document_id: str
    kind: str = Field(description="draft | signed")
    sha256: str
    size: int


# --- Active reporting ----------------------------------------------------------------


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
        default=None, ge=0, max_digits=18, decimal_places=2, json_schema_extra=_MONEY
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


class UpdateResult(BaseModel):
    agreement_id: str
    status: AgreementStatus
    seq: int


# --- What the workflow asks the projection to write, one transaction a transition ---


class TaskOpening(BaseModel):
    task_id: str
    kind: TaskKind
    step_key: str
    step_name: str
    round: int
    group_id: str | None
    user_id: str | None = None
    approvals_required: int
    due_at: datetime


class TaskClosing(BaseModel):
    task_id: str
    status: TaskStatus
    outcome: str | None = None


class NoticeKind(StrEnum):
    TASK_ASSIGNED = "task_assigned"
    REMINDER = "reminder"
    ESCALATION = "escalation"
    OBLIGATION_OVERDUE = "obligation_overdue"
    CHANGES_REQUESTED = "changes_requested"
    OUTCOME = "outcome"


class Notice(BaseModel):
    """A message to send; the projection resolves the audience to users."""

    kind: NoticeKind
    audience: str = Field(description="assignees | escalation | officer")
    task_id: str | None = None
    subject: str
    body: str


class Transition(BaseModel):
    key: str = Field(description="workflow id + step: a retried write is applied once")
    seq: int = Field(ge=1, description="per-agreement event number, gapless")
    agreement_id: str
    at: datetime
    actor_id: str | None
    event_type: str
    from_status: AgreementStatus | None
    to_status: AgreementStatus
    data: dict[str, Any] = Field(default_factory=dict)
    create: AgreementStart | None = None
    revised: Proposal | None = None
    revision_number: int | None = None
    votes: list[Decision] = Field(default_factory=list)
    closes: list[TaskClosing] = Field(default_factory=list)
    opens: list[TaskOpening] = Field(default_factory=list)
    reassigns: list[TaskOpening] = Field(default_factory=list)
    notices: list[Notice] = Field(default_factory=list)
    reminded_task_id: str | None = None
    escalated_task_id: str | None = None
    findings: list[Finding] = Field(default_factory=list)
    dismissals: list[FindingDismissal] = Field(default_factory=list)
    conditions: list[str] | None = None
    document: StoredDocument | None = None
    effective_at: datetime | None = None
    ends_at: datetime | None = None
    obligations: list[Obligation] = Field(default_factory=list, description="Upserted by id")
    signatures: list[SignatureRecord] = Field(default_factory=list)
    licenses: str | None = Field(
        default=None, description="grant: record the agreement's licenses; end: close them"
    )


class PersistedTransition(BaseModel):
    seq: int
    notification_ids: list[str]


# --- Workflow state carried across continue-as-new ---


class OpenTask(BaseModel):
    opening: TaskOpening
    # When the reminder schedule started: the task's creation, or its last new due date.
    created_at: datetime
    voters: list[str] = Field(default_factory=list)
    notices_sent: list[str] = Field(default_factory=list)


class Snapshot(BaseModel):
    """What continue-as-new carries from one run to the next."""

    status: AgreementStatus
    seq: int
    revision: int
    proposal: Proposal
    plan: ReviewPlan | None
    step_index: int
    open_tasks: dict[str, OpenTask]
    findings: dict[str, Finding] = Field(default_factory=dict)
    conditions: list[str] = Field(default_factory=list)
    document: StoredDocument | None = None
    signatories: list[ResolvedSignatory] = Field(default_factory=list)
    signatures: list[SignatureRecord] = Field(default_factory=list)
    envelope_expires_at: datetime | None = None
    effective_at: datetime | None = None
    ends_at: datetime | None = None
    obligations: list[Obligation] = Field(default_factory=list)


class AgreementInput(BaseModel):
    start: AgreementStart
    resume: Snapshot | None = None


class PortfolioMailing(BaseModel):
    """What the weekly portfolio run did."""

    generated_at: datetime
    agreements: int
    recipients: list[str]
    sent: int
