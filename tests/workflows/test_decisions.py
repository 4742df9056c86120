"""Decisions are typed per stage and told apart by their outcome; decisions recorded in
running agreements' histories, in the shape they had before, still read."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from workflows.clearance.messages import ClearanceDecision, ConditionalClearance
from workflows.core.statuses import TaskKind
from workflows.decisions import DECISION, OUTCOMES_BY_KIND
from workflows.review.messages import ReviewDecision
from workflows.signature.messages import DeclineDecision, SignDecision
from workflows.term.messages import ReportDecision

IDS = {"task_id": "task-1", "actor_id": "user-1"}
SHA = "ab" * 32


@pytest.mark.parametrize(
    ("given", "kind"),
    [
        ({"outcome": "approve"}, ReviewDecision),
        ({"outcome": "reject", "comment": "no"}, ReviewDecision),
        ({"outcome": "block", "comment": "listed"}, ClearanceDecision),
        ({"outcome": "clear_with_conditions", "conditions": ["a"]}, ConditionalClearance),
        ({"outcome": "sign", "document_sha256": SHA}, SignDecision),
        ({"outcome": "decline", "comment": "terms"}, DeclineDecision),
        ({"outcome": "submit", "report": {"narrative": "done"}}, ReportDecision),
    ],
)
def test_the_outcome_picks_the_type(given: dict[str, object], kind: type) -> None:
    assert type(DECISION.validate_python(IDS | given)) is kind


def test_each_task_kind_takes_its_stage_outcomes() -> None:
    assert {
        TaskKind.REVIEW: {"approve", "reject", "request_changes"},
        TaskKind.IP_CLEARANCE: {"clear", "clear_with_conditions", "block"},
        TaskKind.SIGNATURE: {"sign", "decline"},
        TaskKind.REPORT: {"submit"},
    } == OUTCOMES_BY_KIND


@pytest.mark.parametrize(
    ("given", "field", "message"),
    [
        ({"outcome": "reject"}, "comment", "a comment is required to reject"),
        ({"outcome": "request_changes", "comment": "  "}, "comment", "request changes"),
        ({"outcome": "block"}, "comment", "a comment is required to block"),
        ({"outcome": "decline"}, "comment", "a comment is required to decline"),
        ({"outcome": "clear_with_conditions"}, "conditions", "at least one condition"),
        ({"outcome": "sign"}, "document_sha256", "the SHA-256 of the document you read"),
        ({"outcome": "sign", "document_sha256": "x" * 64}, "document_sha256", "pattern"),
        ({"outcome": "submit"}, "report", "submit needs the report"),
        ({"outcome": "approve", "comment": "x" * 5001}, "comment", "at most 5000"),
        ({"outcome": "clear_with_conditions", "conditions": ["c"] * 51}, "conditions", "51"),
    ],
)
def test_each_rule_is_checked_on_its_field(
    given: dict[str, object], field: str, message: str
) -> None:
    with pytest.raises(ValidationError) as err:
        DECISION.validate_python(IDS | given)
    (error,) = err.value.errors()
    assert error["loc"][1:] == (field,)
    assert message in error["msg"] or message in str(error.get("input"))


def test_an_unknown_outcome_is_refused() -> None:
    with pytest.raises(ValidationError):
        DECISION.validate_python(IDS | {"outcome": "approve_quietly"})


def test_a_decision_recorded_before_types_still_reads() -> None:
    """The shape every `decide` update had before decisions were typed: details in a
    free-form `data` dict, next to keys a client may have added."""
    recorded = IDS | {
        "outcome": "sign",
        "comment": "",
        "data": {
            "document_sha256": SHA,
            "ip_address": "10.0.0.7",
            "user_agent": "Mozilla/5.0",
            "note": "anything a client sent",
        },
    }
    decision = DECISION.validate_python(recorded)
    assert isinstance(decision, SignDecision)
    assert (decision.document_sha256, decision.ip_address) == (SHA, "10.0.0.7")
    assert decision.details() == {
        "document_sha256": SHA,
        "ip_address": "10.0.0.7",
        "user_agent": "Mozilla/5.0",
    }
    conditional = DECISION.validate_python(
        IDS | {"outcome": "clear_with_conditions", "data": {"conditions": ["Annual audit"]}}
    )
    assert isinstance(conditional, ConditionalClearance)
    assert conditional.conditions == ["Annual audit"]
    report = DECISION.validate_python(
        IDS | {"outcome": "submit", "data": {"report": {"narrative": "Year one", "units": 3}}}
    )
    assert isinstance(report, ReportDecision) and report.report is not None
    assert report.report.units == 3
