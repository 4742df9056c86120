"""The review policy: a versioned file that says which steps an agreement needs."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from workflows.core.proposal import AgreementKind, Proposal


class Conditions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kinds: list[AgreementKind] | None = None
    not_kinds: list[AgreementKind] | None = None
    watch_list_party: bool | None = None
    min_value: Decimal | None = None

    def hold_for(self, proposal: Proposal, watch_list: frozenset[str]) -> bool:
        if self.kinds is not None and proposal.kind not in self.kinds:
            return False
        if self.not_kinds is not None and proposal.kind in self.not_kinds:
            return False
        if self.watch_list_party is not None:
            flagged = any(party.country in watch_list for party in proposal.parties)
            if flagged != self.watch_list_party:
                return False
        return self.min_value is None or proposal.estimated_value >= self.min_value


class PolicyStep(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    group: str
    approvals: int = Field(default=1, ge=1)
    sla_hours: float = Field(gt=0)
    when: Conditions | None = None
    any_of: list[Conditions] | None = None

    def applies_to(self, proposal: Proposal, watch_list: frozenset[str]) -> bool:
        if self.when is not None and not self.when.hold_for(proposal, watch_list):
            return False
        return self.any_of is None or any(c.hold_for(proposal, watch_list) for c in self.any_of)


class ReviewPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str
    watch_list_countries: frozenset[str] = frozenset()
    steps: list[PolicyStep] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_keys(self) -> Self:
        keys = [step.key for step in self.steps]
        if len(keys) != len(set(keys)):
            raise ValueError("review step keys must be unique")
        return self

    def steps_for(self, proposal: Proposal) -> list[PolicyStep]:
        """The steps that apply to this proposal, in policy order."""
        return [s for s in self.steps if s.applies_to(proposal, self.watch_list_countries)]

    @classmethod
    def load(cls, path: Path) -> ReviewPolicy:
        """Read and check the file; any problem is a PolicyFileError naming it."""
        try:
            return cls.model_validate(yaml.safe_load(path.read_text()))
        except (OSError, yaml.YAMLError, ValidationError) as err:
            raise PolicyFileError(f"review policy {path} is unusable: {err}") from err


class PolicyFileError(Exception):
    """The review policy file is missing, not YAML, or not a valid policy."""
