"""What the IP asset registry takes and returns: never an ORM object."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from workflows.core.fields import Territory, Text, reject_nul, upper_stripped


class AssetType(StrEnum):
    PATENT = "patent"
    PATENT_APPLICATION = "patent_application"
    COPYRIGHT = "copyright"
    SOFTWARE = "software"
    KNOW_HOW = "know_how"
    TRADEMARK = "trademark"
    BIOLOGICAL_MATERIAL = "biological_material"


class AssetStatus(StrEnum):
    PENDING = "pending"
    GRANTED = "granted"
    EXPIRED = "expired"
    ABANDONED = "abandoned"


class FundingSource(StrEnum):
    GOVERNMENT = "government"
    SPONSOR = "sponsor"


# Characters an identifier may not hold: it travels as one URL path segment.
_NOT_IN_IDENTIFIER = frozenset("/\\?#%") | {chr(c) for c in range(32)} | {"\x7f"}


def _identifier_chars(value: str) -> str:
    if any(c in _NOT_IN_IDENTIFIER for c in value):
        raise ValueError("must not contain control characters (NUL included) nor / \\ ? # %")
    return value


Identifier = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    AfterValidator(_identifier_chars),
    Field(description="Patent or application number as the office writes it, e.g. US-11223344-B2"),
]
Title = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=300),
    AfterValidator(reject_nul),
]
Jurisdiction = Annotated[
    str,
    BeforeValidator(upper_stripped),
    StringConstraints(pattern=r"^[A-Z]{2,8}$"),
    Field(
        description="The office's code: 2 to 8 letters, e.g. US, EP, WO",
        # Upper-cased before the pattern above is checked, which leaves it out of the schema.
        json_schema_extra={"pattern": "^[A-Za-z]{2,8}$"},
    ),
]
FieldOfUse = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=500),
    AfterValidator(reject_nul),
    Field(description="null: every field of use"),
]


class Inventor(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text
    assignment_recorded: bool = Field(
        description="The inventor's assignment to the owner is recorded"
    )


class Funding(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: FundingSource
    agency: Text = Field(description="The government agency or the sponsor")
    award_number: Text | None = None


def _unique_territories(territories: list[str]) -> list[str]:
    return list(dict.fromkeys(territories))


class LicenseIn(BaseModel):
    """A license already granted, recorded in the registry."""

    model_config = ConfigDict(extra="forbid")

    licensee: Text
    exclusive: bool
    field_of_use: FieldOfUse | None = None
    territories: Annotated[
        list[Territory],
        Field(min_length=1, max_length=250, description="ISO alpha-2 codes, or WW"),
        AfterValidator(_unique_territories),
    ]
    starts_on: date
    ends_on: date | None = Field(default=None, description="Not before starts_on; null: open")

    @field_validator("ends_on")
    @classmethod
    def _ends_after_start(cls, ends_on: date | None, info: ValidationInfo) -> date | None:
        starts_on = info.data.get("starts_on")
        if ends_on is not None and starts_on is not None and ends_on < starts_on:
            raise ValueError("must not be before starts_on")
        return ends_on


class AssetCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    identifier: Identifier
    asset_type: AssetType
    title: Title
    jurisdiction: Jurisdiction
    status: AssetStatus
    owner: Text
    filed_on: date | None = None
    expires_on: date | None = Field(default=None, description="Not before filed_on")
    inventors: list[Inventor] = Field(default_factory=list, max_length=100)
    funding: list[Funding] = Field(default_factory=list, max_length=50)
    licenses: list[LicenseIn] = Field(
        default_factory=list, max_length=100, description="Licenses already granted"
    )

    @field_validator("expires_on")
    @classmethod
    def _expires_after_filing(cls, expires_on: date | None, info: ValidationInfo) -> date | None:
        filed_on = info.data.get("filed_on")
        if expires_on is not None and filed_on is not None and expires_on < filed_on:
            raise ValueError("must not be before filed_on")
        return expires_on


class AssetUpdate(BaseModel):
    """The fields to change; those left out stay as they are. Only expires_on takes null."""

    model_config = ConfigDict(extra="forbid")

    status: AssetStatus | None = None
    expires_on: date | None = None
    inventors: list[Inventor] | None = Field(default=None, max_length=100)
    funding: list[Funding] | None = Field(default=None, max_length=50)
    title: Title | None = None
    owner: Text | None = None

    @field_validator("status", "inventors", "funding", "title", "owner")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # Validators run only on given values: a None here was sent explicitly.
        if value is None:
            raise ValueError("may not be null; leave the field out to keep it")
        return value

    @model_validator(mode="after")
    def _changes_something(self) -> Self:
        if not self.model_fields_set:
            raise ValueError("give at least one field to change")
        return self

    def changes(self) -> dict[str, Any]:
        """The fields sent, as stored: inventors and funding as plain dicts."""
        changes: dict[str, Any] = {}
        for name in self.model_fields_set:
            value = getattr(self, name)
            if isinstance(value, list):
                value = [item.model_dump(mode="json") for item in value]
            changes[name] = value
        return changes


class LicenseOut(BaseModel):
    id: str
    licensee: str
    exclusive: bool
    field_of_use: str | None
    territories: list[str]
    starts_on: date
    ends_on: date | None
    active: bool
    agreement_id: str | None = Field(description="Set when an Accord agreement granted it")
    created_at: datetime


class InventorOut(BaseModel):
    name: str
    assignment_recorded: bool = False


class FundingOut(BaseModel):
    source: str
    agency: str
    award_number: str | None = None


class AssetSummary(BaseModel):
    id: str
    identifier: str
    asset_type: str
    title: str
    jurisdiction: str
    status: str
    owner: str
    filed_on: date | None
    expires_on: date | None
    inventors: list[InventorOut]
    funding: list[FundingOut]
    created_by: str
    created_at: datetime
    updated_at: datetime


class AssetDetail(AssetSummary):
    licenses: list[LicenseOut] = Field(description="By start date, ended ones included")


class AssetPage(BaseModel):
    items: list[AssetSummary]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page")
