"""Notices are templates: the workflow names one and gives typed values, the worker
renders the wording (the same words the workflow used to compose itself)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.workers.core.notices import render_notice
from tests.factories import proposal
from workflows.core.notices import Event, Notice, NoticeKind, Notices
from workflows.core.proposal import Proposal
from workflows.core.statuses import TaskKind
from workflows.core.tasks import TaskOpening

DUE = datetime(2027, 3, 4, 5, 6, tzinfo=UTC)
TASK = TaskOpening(
    task_id="t-1",
    kind=TaskKind.REVIEW,
    step_key="technical",
    step_name="Technical review",
    round=0,
    group_id="g-1",
    approvals_required=1,
    due_at=DUE,
)
SIGNING = TASK.model_copy(update={"kind": TaskKind.SIGNATURE, "step_name": "Signature for Helio"})


@pytest.fixture
def notices() -> Notices:
    return Notices("a-1", Proposal.model_validate(proposal(title="Solar", kind="license")))


def test_the_wording_of_every_notice(notices: Notices) -> None:
    rendered = [
        render_notice(n)
        for n in [
            notices.assigned(TASK),
            notices.signature_requested(SIGNING),
            notices.to_officer(Event.REJECTED, "Out of scope"),
            notices.to_officer(Event.APPROVED),
            notices.to_officer(Event.EXPIRED, signed=1, signatories=2),
            notices.reminder(TASK, "reminder"),
            notices.reminder(TASK, "due"),
            notices.reminder(SIGNING, "final_reminder"),
            notices.escalation(TASK),
            notices.obligation_overdue("Report 1", "t-2", DUE),
        ]
    ]
    assert rendered == [
        (
            "New task: Technical review for 'Solar'",
            "'Solar' (license) awaits your technical review. Due 2027-03-04 05:06 UTC.",
        ),
        (
            "Please sign 'Solar'",
            "'Solar' is ready for your signature (signature for helio). Read the document at"
            " /v1/agreements/a-1/document and sign before 2027-03-04 05:06 UTC, when the"
            " envelope expires.",
        ),
        ("'Solar' rejected", "'Solar' was rejected.\n\nComment: Out of scope"),
        ("'Solar' approved in review", "'Solar' was approved in review."),
        (
            "'Solar' expired: not every signatory signed in time",
            "'Solar' was expired: not every signatory signed in time.\n\n"
            "Comment: 1 of 2 signatures were given.",
        ),
        (
            "Reminder: Technical review for 'Solar': it is due 2027-03-04 05:06 UTC",
            "Please complete the task 'Technical review' on 'Solar'; it is due 2027-03-04"
            " 05:06 UTC.",
        ),
        (
            "Reminder: Technical review for 'Solar': it is due now",
            "Please complete the task 'Technical review' on 'Solar'; it is due now.",
        ),
        (
            "Reminder: Signature for Helio for 'Solar': the envelope expires 2027-03-04 05:06 UTC",
            "Please sign the task 'Signature for Helio' on 'Solar'; the envelope expires"
            " 2027-03-04 05:06 UTC.",
        ),
        (
            "Overdue: Technical review for 'Solar'",
            "'Technical review' on 'Solar' was due 2027-03-04 05:06 UTC and is still open.",
        ),
        (
            "Overdue: Report 1 for 'Solar'",
            "'Report 1' on 'Solar' was due 2027-03-04 and has not been submitted.",
        ),
    ]


def test_every_event_has_words(notices: Notices) -> None:
    for event in Event:
        subject, body = render_notice(notices.to_officer(event))
        assert subject.startswith("'Solar' ") and body.startswith("'Solar' was ")


def test_a_title_cannot_break_the_subject_line() -> None:
    odd = Notices("a-1", Proposal.model_validate(proposal(title="Two\n\nlines")))
    subject, body = render_notice(odd.assigned(TASK))
    assert subject == "New task: Technical review for 'Two lines'"
    assert body.startswith("'Two lines' (")


def test_a_notice_recorded_before_templates_keeps_its_words() -> None:
    """A transition scheduled by an older worker may reach this one with its wording."""
    old = Notice(kind=NoticeKind.OUTCOME, audience="officer", subject="S", body="B")
    assert render_notice(old) == ("S", "B")
