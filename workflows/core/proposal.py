"""What a program officer proposes: the agreement's parties, terms and signatories."""

from __future__ import annotations

import re
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from workflows.core.fields import (
    DECIMAL,
    MONEY,
    Comment,
    CountryCode,
    CurrencyCode,
    LongText,
    Territory,
    Text,
    reject_nul,
    upper_stripped,
)


class AgreementKind(StrEnum):
    LICENSE = "license"
    OPTION = "option"
    TECHNOLOGY_TRANSFER = "technology_transfer"
    EXCHANGE_PROGRAM = "exchange_program"
    RESEARCH_COLLABORATION = "research_collaboration"
    MATERIAL_TRANSFER = "material_transfer"
    DEFENSE_SHARING = "defense_sharing"


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
        default=None, ge=0, le=100, description="Percent", json_schema_extra=DECIMAL
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
    estimated_value: Decimal = Field(ge=0, max_digits=18, decimal_places=2, json_schema_extra=MONEY)
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
        default=None, ge=0, max_digits=18, decimal_places=2, json_schema_extra=MONEY
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
