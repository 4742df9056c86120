"""Notices: whom to tell what. The workflow names a template and gives typed values;
the wording lives in templates the worker renders when it stores the notice
(`services/workers/core/notices/`), so it can change without touching a workflow."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from workflows.core.proposal import Proposal
from workflows.core.statuses import TaskKind
from workflows.core.tasks import TaskOpening


class NoticeKind(StrEnum):
    TASK_ASSIGNED = "task_assigned"
    REMINDER = "reminder"
    ESCALATION = "escalation"
    OBLIGATION_OVERDUE = "obligation_overdue"
    CHANGES_REQUESTED = "changes_requested"
    OUTCOME = "outcome"


class NoticeTemplate(StrEnum):
    TASK_ASSIGNED = "task_assigned"
    SIGNATURE_REQUESTED = "signature_requested"
    OUTCOME = "outcome"
    REMINDER = "reminder"
    ESCALATION = "escalation"
    OBLIGATION_OVERDUE = "obligation_overdue"


class Event(StrEnum):
    """What happened to the agreement, for a notice to its officer."""

    APPROVED = "approved"
    RETURNED = "returned"
    REJECTED = "rejected"
    BLOCKED = "blocked"
    DECLINED = "declined"
    EXPIRED = "expired"
    ACTIVE = "active"
    COMPLETED = "completed"
    TERMINATED = "terminated"


class NoticeValues(BaseModel):
    """What a template may say; each notice fills the values its template uses."""

    agreement_id: str
    title: str
    agreement_kind: str
    step_name: str | None = None
    due_at: datetime | None = None
    reminder: str | None = Field(default=None, description="reminder | due | final_reminder")
    signature: bool = False
    event: Event | None = None
    comment: str = ""
    obligation: str | None = None
    signed: int | None = None
    signatories: int | None = None


class Notice(BaseModel):
    """A message to send; the projection resolves the audience to users and renders the
    template. Runs recorded before templates carry `subject` and `body` instead."""

    kind: NoticeKind
    audience: str = Field(description="assignees | escalation | officer")
    task_id: str | None = None
    template: NoticeTemplate | None = None
    values: NoticeValues | None = None
    subject: str = ""
    body: str = ""


class Notices:
    """The notices about one agreement."""

    def __init__(self, agreement_id: str, proposal: Proposal) -> None:
        self._agreement_id = agreement_id
        self._proposal = proposal

    def _values(self, **values: object) -> NoticeValues:
        return NoticeValues(
            agreement_id=self._agreement_id,
            title=self._proposal.title,
            agreement_kind=self._proposal.kind,
            **values,
        )

    def _about_task(
        self,
        opening: TaskOpening,
        kind: NoticeKind,
        template: NoticeTemplate,
        audience: str = "assignees",
        **values: object,
    ) -> Notice:
        return Notice(
            kind=kind,
            audience=audience,
            task_id=opening.task_id,
            template=template,
            values=self._values(step_name=opening.step_name, due_at=opening.due_at, **values),
        )

    def assigned(self, opening: TaskOpening) -> Notice:
        """To the task's assignees: a task awaits them."""
        return self._about_task(opening, NoticeKind.TASK_ASSIGNED, NoticeTemplate.TASK_ASSIGNED)

    def signature_requested(self, opening: TaskOpening) -> Notice:
        return self._about_task(
            opening, NoticeKind.TASK_ASSIGNED, NoticeTemplate.SIGNATURE_REQUESTED
        )

    def to_officer(
        self,
        event: Event,
        comment: str = "",
        *,
        kind: NoticeKind = NoticeKind.OUTCOME,
        signed: int | None = None,
        signatories: int | None = None,
    ) -> Notice:
        return Notice(
            kind=kind,
            audience="officer",
            template=NoticeTemplate.OUTCOME,
            values=self._values(
                event=event, comment=comment, signed=signed, signatories=signatories
            ),
        )

    def reminder(self, opening: TaskOpening, name: str) -> Notice:
        return self._about_task(
            opening,
            NoticeKind.REMINDER,
            NoticeTemplate.REMINDER,
            reminder=name,
            signature=opening.kind == TaskKind.SIGNATURE,
        )

    def escalation(self, opening: TaskOpening) -> Notice:
        """To whoever the assignees answer to: the task is overdue."""
        return self._about_task(
            opening, NoticeKind.ESCALATION, NoticeTemplate.ESCALATION, audience="escalation"
        )

    def obligation_overdue(self, name: str, task_id: str | None, due_at: datetime) -> Notice:
        return Notice(
            kind=NoticeKind.OBLIGATION_OVERDUE,
            audience="officer",
            task_id=task_id,
            template=NoticeTemplate.OBLIGATION_OVERDUE,
            values=self._values(obligation=name, due_at=due_at),
        )
