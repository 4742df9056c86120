"""The record of one agreement's life, and the ids its rows point at.

A Story holds the events, tasks, votes and obligations of one agreement as the
workflow's projection would have written them (event seq gapless, the status before
and after each event); bench/seed_lifecycle.py plays the stages that write them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bench.seed_lifecycle import Lifecycle


@dataclass
class Org:
    """The ids the generated rows point at."""

    officers: list[str]
    groups: dict[str, str]
    users: dict[str, str]  # demo key -> id


class Story:
    """One agreement's life, written as the projection would have written it."""

    def __init__(self, gen: Lifecycle, agreement_id: str, officer_id: str, t0: datetime) -> None:
        self.gen, self.rng = gen, gen.rng
        self.id = agreement_id
        self.officer_id = officer_id
        self.t0 = t0
        self.workflow_id = f"agreement-{agreement_id}"
        self.status: str | None = None
        self.status_changed_at = t0
        self.clock = t0
        self.seq = 0
        self.revision = 0
        self.events: list[tuple[Any, ...]] = []
        self.tasks: dict[str, list[Any]] = {}
        self.decisions: list[tuple[Any, ...]] = []
        self.obligations: list[tuple[Any, ...]] = []

    def event(
        self,
        type_: str,
        to_status: str,
        at: datetime,
        actor_id: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        self.seq += 1
        self.clock = at
        if to_status != self.status:
            self.status_changed_at = at
        self.events.append(
            (
                self.id,
                self.seq,
                f"{self.workflow_id}/{self.seq}",
                type_,
                actor_id,
                self.status,
                to_status,
                data or {},
                at,
            )
        )
        self.status = to_status

    def open_task(
        self,
        kind: str,
        step_key: str,
        step_name: str,
        at: datetime,
        due_at: datetime,
        *,
        user_id: str | None = None,
        group_id: str | None = None,
        approvals: int = 1,
    ) -> str:
        task_id = self.gen.uuid()
        self.tasks[task_id] = [
            task_id,
            self.id,
            kind,
            step_key,
            step_name,
            self.revision,
            user_id,
            group_id,
            approvals,
            "open",
            None,
            due_at,
            at,
            None,
            None,
            None,
        ]
        return task_id

    def close_task(self, task_id: str, status: str, outcome: str | None, at: datetime) -> None:
        row = self.tasks[task_id]
        row[9], row[10], row[13] = status, outcome, at

    def vote(self, task_id: str, actor_id: str, outcome: str, at: datetime, **data: Any) -> None:
        self.decisions.append((task_id, actor_id, outcome, "", data, at))

    def remind(self, task_id: str, until: datetime) -> None:
        """The reminder (and escalation) the workflow sends while a task waits."""
        row = self.tasks[task_id]
        created, due = row[12], row[11]
        data = {"task_id": task_id, "step": row[3]}
        remind_at = created + (due - created) / 2
        if remind_at < until and self.rng.random() < 0.7:
            self.event("reminder", self.status or "in_review", remind_at, None, data | {"n": 1})
            row[14] = remind_at
        escalate_at = due + timedelta(days=1)
        if escalate_at < until and self.rng.random() < 0.8:
            self.event("escalation", self.status or "in_review", escalate_at, None, data)
            row[15] = escalate_at
