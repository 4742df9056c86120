"""Signature: who signs in which order, the document they sign, and their decision."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints, field_validator

from workflows.core.commands import DecisionBase
from workflows.core.fields import Sha256
from workflows.core.proposal import Proposal


class SignatureOutcome(StrEnum):
    SIGN = "sign"
    DECLINE = "decline"


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


class SignDecision(DecisionBase):
    """A signatory signs the document they read; the API adds where they signed from."""

    outcome: Literal["sign"]
    document_sha256: Sha256 | None = Field(
        default=None,
        validate_default=True,
        description="The SHA-256 of the document you read (a stale one is refused)",
    )
    ip_address: Annotated[str, StringConstraints(max_length=64)] | None = None
    user_agent: Annotated[str, StringConstraints(max_length=1000)] | None = None

    @field_validator("document_sha256")
    @classmethod
    def _hash_given(cls, digest: str | None) -> str | None:
        if digest is None:
            raise ValueError("to sign, give the SHA-256 of the document you read")
        return digest


class DeclineDecision(DecisionBase):
    outcome: Literal["decline"]

    needs_reason = frozenset({SignatureOutcome.DECLINE})
