"""Agreements driven to active through the HTTP API by users who retry as people do:
a 503 or a 504 ("may still apply") is followed by another try a little later, and a
409 on that retry means the earlier attempt was applied after all. Then the invariants
a fault must not break, checked in the database."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import func, select

from services.store import Agreement, AgreementEvent, Task, TaskDecision
from tests.factories import proposal
from tests.stack import Stack

# The shipped policy's path for the default license proposal, and who decides each step.
STEPS = (
    ("technical", "reviewer1", "approve"),
    ("legal", "reviewer2", "approve"),  # the last approval: clearance checks run
    ("ip_clearance", "counsel", "clear"),  # resolve signatories, render the PDF
    ("signature_1", "signatory1", "sign"),
    ("signature_2", "signatory2", "sign"),  # the last signature: signed PDF, activation
)
TIMELINE = [
    "submitted",
    "review_step_approved",
    "review_completed",
    "ip_checks_completed",
    "cleared",
    "signed",
    "signed",
    "activated",
]
# What a person retries after: the service says it is unavailable, or it could not
# confirm in time, or the connection dropped. 502 never comes from the in-process API.
RETRY_AFTER = {503, 504}


@dataclass
class Tally:
    """What the users saw: how often they had to retry, and why."""

    statuses: Counter[str] = field(default_factory=Counter)
    replayed: int = 0  # a retry answered 409: its earlier attempt had been applied
    refused_open: int = 0  # a 409 for a task the database shows open and undecided
    done: int = 0

    def __str__(self) -> str:
        counts = ", ".join(f"{k}: {v}" for k, v in sorted(self.statuses.items()))
        return (
            f"{counts}; retries found applied: {self.replayed}; 409 on an open task:"
            f" {self.refused_open}; agreements done: {self.done}"
        )


class Driver:
    """Users of one running API, driving agreements and counting what they saw."""

    def __init__(self, stack: Stack, *, pause: float = 1.0, within: float = 300) -> None:
        self.stack = stack
        self.pause = pause
        self.within = within
        self.tally = Tally()
        self.keys: list[str] = []

    async def request(
        self, actor: str, method: str, path: str, **kwargs: Any
    ) -> tuple[httpx.Response, int]:
        """Send until the answer is not a 503/504; return it and the attempts made."""
        attempts = 0
        while True:
            attempts += 1
            try:
                response = await self.stack.actor(actor).request(method, path, **kwargs)
            except httpx.TransportError as err:
                self.tally.statuses[type(err).__name__] += 1
            else:
                self.tally.statuses[f"{method} {response.status_code}"] += 1
                if response.status_code not in RETRY_AFTER:
                    return response, attempts
                if response.status_code == 503:
                    assert response.headers.get("Retry-After"), response.text
            await asyncio.sleep(self.pause)

    async def read(self, agreement_id: str) -> dict[str, Any]:
        response, _ = await self.request("admin", "GET", f"/v1/agreements/{agreement_id}")
        assert response.status_code == 200, response.text
        return response.json()

    async def submit(self, index: int) -> dict[str, Any]:
        key = f"faults-{index}-{uuid.uuid4().hex[:8]}"
        self.keys.append(key)
        body = proposal(title=f"Fault-injection license {index} {key}")
        response, _ = await self.request(
            "officer", "POST", "/v1/proposals", json=body, headers={"Idempotency-Key": key}
        )
        assert response.status_code == 201, response.text
        detail: dict[str, Any] = response.json()
        return detail

    async def open_task(
        self, agreement_id: str, step: str, detail: dict[str, Any] | None
    ) -> dict[str, Any]:
        """The open task of this step, once the workflow has opened it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.within
        while True:
            if detail is not None:
                for task in detail["open_tasks"]:
                    if task["step_key"] == step:
                        return dict(task)
            if loop.time() > deadline:
                raise AssertionError(f"{agreement_id}: no open {step} task; last: {detail}")
            await asyncio.sleep(self.pause)
            detail = await self.read(agreement_id)

    async def decide(self, task: dict[str, Any], actor: str, outcome: str) -> dict[str, Any] | None:
        """Decide as `actor`; the agreement as the answer shows it, or None when a retry
        found the decision already applied (409)."""
        body: dict[str, Any] = {"outcome": outcome, "comment": "fault-injection run"}
        path = f"/v1/tasks/{task['id']}"
        if outcome == "sign":
            shown, _ = await self.request(actor, "GET", path)
            assert shown.status_code == 200, shown.text
            body["document_sha256"] = shown.json()["document"]["sha256"]
        sent = 0
        while True:
            response, attempts = await self.request(actor, "POST", f"{path}/decision", json=body)
            sent += attempts
            if response.status_code == 200:
                detail: dict[str, Any] = response.json()
                return detail
            assert response.status_code == 409, (sent, response.text)
            shown, _ = await self.request(actor, "GET", path)
            assert shown.status_code == 200, shown.text
            if shown.json()["status"] == "open" and not shown.json()["decisions"]:
                # The database shows the task open, the workflow has not caught up with
                # the write that opened it (see test_workflow_lag.py): try again.
                self.tally.refused_open += 1
                await asyncio.sleep(self.pause)
                continue
            assert sent > 1, f"a first attempt refused: {response.text}; task: {shown.text}"
            self.tally.replayed += 1
            return None

    async def to_active(self, index: int) -> str:
        """One agreement from submission to active, every step by its user."""
        detail = await self.submit(index)
        return await self.complete(detail["id"], detail, STEPS)

    async def complete(
        self,
        agreement_id: str,
        detail: dict[str, Any] | None,
        steps: tuple[tuple[str, str, str], ...],
    ) -> str:
        """Take these steps in turn, then wait for the agreement to be active."""
        for step, actor, outcome in steps:
            task = await self.open_task(agreement_id, step, detail)
            detail = await self.decide(task, actor, outcome)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.within
        while detail is None or detail["status"] != "active":
            if loop.time() > deadline:
                raise AssertionError(f"{agreement_id} not active; last: {detail}")
            await asyncio.sleep(self.pause)
            detail = await self.read(agreement_id)
        self.tally.done += 1
        return agreement_id


async def check_invariants(stack: Stack, agreement_ids: list[str], keys: list[str]) -> None:
    """Every agreement active, its timeline gapless and as expected, every decision
    applied once, no task left open, one agreement per submission."""
    async with stack.sessions() as session:
        submitted = await session.scalar(
            select(func.count()).select_from(Agreement).where(Agreement.idempotency_key.in_(keys))
        )
        assert submitted == len(keys) == len(set(agreement_ids))
        problems: list[str] = []
        for agreement_id in agreement_ids:
            agreement = await session.get_one(Agreement, agreement_id)
            timeline = (
                await session.execute(
                    select(AgreementEvent.seq, AgreementEvent.type)
                    .where(AgreementEvent.agreement_id == agreement_id)
                    .order_by(AgreementEvent.seq, AgreementEvent.id)
                )
            ).all()
            seqs = [seq for seq, _ in timeline]
            types = [kind for _, kind in timeline]
            tasks = (
                await session.execute(
                    select(Task.step_key, Task.status).where(Task.agreement_id == agreement_id)
                )
            ).all()
            votes = (
                await session.execute(
                    select(Task.step_key, TaskDecision.actor_id)
                    .join(Task, Task.id == TaskDecision.task_id)
                    .where(Task.agreement_id == agreement_id)
                )
            ).all()
            step_votes = Counter(step for step, _ in votes)
            if agreement.status != "active":
                problems.append(f"{agreement_id}: status {agreement.status}")
            if seqs != list(range(1, len(seqs) + 1)) or agreement.last_seq != len(seqs):
                problems.append(f"{agreement_id}: seq {seqs}, last_seq {agreement.last_seq}")
            if types != TIMELINE:
                problems.append(f"{agreement_id}: timeline {types}")
            if step_votes != Counter(step for step, _, _ in STEPS):
                problems.append(f"{agreement_id}: decisions {sorted(step_votes.items())}")
            if sorted(tasks) != sorted((step, "done") for step, _, _ in STEPS):
                problems.append(f"{agreement_id}: tasks {sorted(tasks)}")
        assert not problems, "\n".join(problems)
