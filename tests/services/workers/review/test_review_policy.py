"""The review policy file decides the steps; no lifecycle code does."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from services.config import ROOT
from services.workers.review.review_policy import PolicyFileError, ReviewPolicy
from tests.factories import proposal
from workflows.core.proposal import Proposal

POLICY = ReviewPolicy.load(ROOT / "config" / "review_policy.yaml")


def _steps(**overrides: object) -> list[str]:
    return [s.key for s in POLICY.steps_for(Proposal.model_validate(proposal(**overrides)))]


def test_a_license_gets_technical_then_legal_review() -> None:
    assert _steps() == ["technical", "legal"]


def test_defense_sharing_needs_two_technical_approvals_and_security() -> None:
    assert _steps(kind="defense_sharing") == ["technical_dual", "legal", "security"]
    dual = next(s for s in POLICY.steps if s.key == "technical_dual")
    assert dual.approvals == 2


def test_a_party_in_a_watch_list_country_adds_security() -> None:
    parties = [
        {"name": "State University", "country": "US", "role": "licensor"},
        {"name": "Tehran Labs", "country": "ir", "role": "licensee"},
    ]
    assert _steps(parties=parties) == ["technical", "legal", "security"]


def test_value_at_the_threshold_adds_finance() -> None:
    assert _steps(estimated_value="999999.99") == ["technical", "legal"]
    assert _steps(estimated_value="1000000") == ["technical", "legal", "finance"]


def test_a_policy_with_duplicate_step_keys_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(
        "version: x\nsteps:\n"
        "  - {key: a, name: A, group: g, sla_hours: 1}\n"
        "  - {key: a, name: B, group: g, sla_hours: 1}\n"
    )
    with pytest.raises(PolicyFileError, match="unique"):
        ReviewPolicy.load(path)


def test_a_policy_with_an_unknown_condition_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(
        "version: x\nsteps:\n  - {key: a, name: A, group: g, sla_hours: 1, when: {colour: red}}\n"
    )
    with pytest.raises(PolicyFileError, match=re.escape(str(path))):
        ReviewPolicy.load(path)


def test_a_missing_policy_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(PolicyFileError, match=re.escape("missing.yaml")):
        ReviewPolicy.load(tmp_path / "missing.yaml")
