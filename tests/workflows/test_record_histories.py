"""Records the workflow history of every lifecycle shape the agreement runs, for the replay
test (test_replay.py) to prove a change to workflows/agreement.py safe for running ones.

Skipped unless ACCORD_RECORD_HISTORIES=1: each test drives the real service over HTTP,
as users would, on a real Temporal server and database, writes the history it produced
to histories/<shape>.json, and replays it with the Replayer of the replay test, so a
recording is known good. histories/README.md lists what each file covers.
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from services.config import Settings
from tests.factories import (
    agreement,
    approve_step,
    clear,
    current_task,
    decide,
    events,
    eventually,
    obligations,
    proposal,
    review,
    sign,
    sign_all,
    skip_time,
    submit,
    to_active,
    to_clearance,
    withdraw,
)
from tests.stack import Stack, running_stack
from tests.workflows.replay import HISTORIES, replayer

RECORDING = bool(os.environ.get("ACCORD_RECORD_HISTORIES"))

pytestmark = pytest.mark.skipif(
    not RECORDING, reason="records workflow histories only with ACCORD_RECORD_HISTORIES=1"
)

REPORT = {"narrative": "Sales started in Bavaria.", "income": "1500.00", "units": 12}


# --- recording ----------------------------------------------------------------------------


async def keep(history: WorkflowHistory, shape: str) -> None:
    """Replay the history on the current code, then write it as histories/<shape>.json."""
    await replayer().replay_workflow(history)
    if RECORDING:
        await asyncio.to_thread((HISTORIES / f"{shape}.json").write_text, history.to_json())


async def ended(stack: Stack, workflow_id: str, result: str) -> WorkflowHistory:
    """The history of a workflow that ended, once it has returned `result`."""
    handle = stack.client.get_workflow_handle(workflow_id)
    assert await handle.result() == result
    return await handle.fetch_history()


async def settled(handle: WorkflowHandle[Any, Any]) -> WorkflowExecutionStatus:
    """Wait until the run has nothing in flight: closed, or waiting for a timer or a command
    with no activity pending and no workflow task to run. Returns its status."""

    async def quiet() -> WorkflowExecutionStatus | None:
        described = await handle.describe()
        raw = described.raw_description
        status = described.status
        assert status is not None
        if status != WorkflowExecutionStatus.RUNNING:
            return status
        if raw.pending_activities or raw.HasField("pending_workflow_task"):
            return None
        return status

    return await eventually(quiet, what="the workflow settled")


async def _user_id(stack: Stack, key: str) -> str:
    return str((await stack.actor(key).get("/v1/me")).json()["id"])


async def _post(stack: Stack, actor: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await stack.actor(actor).post(path, json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def _title(shape: str) -> str:
    return f"Recorded {shape} {uuid.uuid4().hex[:8]}"


def _types(timeline: list[dict[str, Any]]) -> list[str]:
    return [e["type"] for e in timeline]


# --- a time-skipping server of the recorder's own -----------------------------------------


@pytest.fixture
async def skipping(
    base_settings: Settings,
    engine: AsyncEngine,
    tokens: dict[str, str],
    screening_list: None,
) -> AsyncIterator[tuple[Stack, WorkflowEnvironment]]:
    """The service on a fresh time-skipping server, with the default history limit: the
    server's clock starts at the wall clock's (which the API checks due dates against),
    and a long shape is recorded as one run (time_skipping_stack continues as new at 150
    events, and its server's clock is as far ahead as earlier tests skipped it)."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(Path(sys.executable).parent / "temporal-test-server"),
        data_converter=pydantic_data_converter,
    )
    try:
        async with running_stack(base_settings, env.client, engine, tokens) as stack:
            yield stack, env
    finally:
        await env.shutdown()


# --- review ----------------------------------------------------------------------------------


async def test_review_approved_then_withdrawn_in_clearance(stack: Stack) -> None:
    submitted = await submit(stack, proposal(title=_title("review")))
    agreement_id = submitted["id"]
    await approve_step(stack, agreement_id, "technical", "reviewer1")
    reviewed = await approve_step(stack, agreement_id, "legal", "reviewer2")
    assert reviewed["status"] == "ip_clearance", reviewed
    await withdraw(stack, agreement_id, "partner chose another licensor")
    history = await ended(stack, submitted["workflow_id"], "withdrawn")
    await keep(history, "review_approved_withdrawn_in_clearance")


async def test_changes_requested_revised_approved_then_terminated(stack: Stack) -> None:
    submitted = await submit(stack, proposal(title=_title("revision")))
    agreement_id = submitted["id"]
    await approve_step(stack, agreement_id, "technical", "reviewer1")
    legal = await current_task(stack, agreement_id)
    response = await decide(stack, "reviewer2", legal["id"], "request_changes", "cap the royalty")
    assert response.status_code == 200, response.text
    revised = await _post(
        stack,
        "officer",
        f"/v1/agreements/{agreement_id}/revisions",
        {"terms": {**submitted["terms"], "royalty_rate": "2.0"}, "comment": "royalty capped"},
    )
    assert revised["status"] == "in_review" and revised["revision"] == 1, revised
    await approve_step(stack, agreement_id, "technical", "reviewer1")
    reviewed = await approve_step(stack, agreement_id, "legal", "reviewer2")
    assert reviewed["status"] == "ip_clearance", reviewed
    await _post(
        stack, "admin", f"/v1/agreements/{agreement_id}/termination", {"reason": "duplicate"}
    )
    history = await ended(stack, submitted["workflow_id"], "terminated")
    await keep(history, "changes_requested_revised_terminated_in_clearance")


async def test_rejected(stack: Stack) -> None:
    submitted = await submit(stack, proposal(title=_title("rejection")))
    task = await current_task(stack, submitted["id"])
    response = await decide(stack, "reviewer1", task["id"], "reject", "no commercial case")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "rejected"
    history = await ended(stack, submitted["workflow_id"], "rejected")
    await keep(history, "rejected_in_review")


async def test_withdrawn_during_review(stack: Stack) -> None:
    submitted = await submit(stack, proposal(title=_title("withdrawal")))
    await approve_step(stack, submitted["id"], "technical", "reviewer1")
    await withdraw(stack, submitted["id"], "partner pulled out")
    history = await ended(stack, submitted["workflow_id"], "withdrawn")
    await keep(history, "withdrawn_in_review")


async def test_two_approvals_then_changes_requested_then_withdrawn(stack: Stack) -> None:
    """The defense-sharing technical step takes two reviewers' votes."""
    submitted = await submit(stack, proposal(kind="defense_sharing", title=_title("dual")))
    agreement_id = submitted["id"]
    task = await current_task(stack, agreement_id)
    assert (task["step_key"], task["approvals_required"]) == ("technical_dual", 2), task
    voted = await approve_step(stack, agreement_id, "technical_dual", "reviewer1")
    assert [t["id"] for t in voted["open_tasks"]] == [task["id"]], voted
    approved = await approve_step(stack, agreement_id, "technical_dual", "reviewer2")
    assert [t["step_key"] for t in approved["open_tasks"]] == ["legal"], approved
    legal = await current_task(stack, agreement_id)
    response = await decide(stack, "reviewer2", legal["id"], "request_changes", "narrow scope")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "changes_requested"
    await withdraw(stack, agreement_id, "scope cannot be narrowed")
    history = await ended(stack, submitted["workflow_id"], "withdrawn")
    assert _types(await events(stack, agreement_id))[:3] == [
        "submitted",
        "review_vote",
        "review_step_approved",
    ]
    await keep(history, "two_approvals_changes_requested_withdrawn")


# --- IP clearance ----------------------------------------------------------------------------


async def test_clearance_dismissal_and_conditions_then_withdrawn_in_signature(
    stack: Stack,
) -> None:
    """A screening hit counsel dismisses as a false positive (a listed entity no other test
    names, since a dismissal is remembered per list entry and party), an unregistered
    asset answered with conditions, then the officer withdraws from signature."""
    body = proposal(
        title=_title("clearance"),
        parties=[
            {"name": "State University", "country": "US", "role": "licensor"},
            {
                "name": "Moscow Institute of Physics and Technology",
                "country": "RU",
                "role": "licensee",
            },
        ],
        ip_assets=[f"EP-{uuid.uuid4().hex[:8]}"],
        signatories=[{"email": "sid.signatory@accord.test", "on_behalf_of": "State University"}],
    )
    task = await to_clearance(stack, body)
    agreement_id = task["agreement_id"]
    kinds = {f["kind"] for f in task["findings"]}
    assert {"screening_hit", "asset_not_registered"} <= kinds, task["findings"]
    hit = next(f for f in task["findings"] if f["kind"] == "screening_hit")
    dismissed = await _post(
        stack,
        "counsel",
        f"/v1/agreements/{agreement_id}/findings/{hit['id']}/dismissal",
        {"reason": "A namesake; checked the registry"},
    )
    assert dismissed["status"] == "dismissed", dismissed
    response = await clear(
        stack,
        task,
        "clear_with_conditions",
        conditions=["The licensor registers the patent family before any transfer"],
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "in_signature"
    await withdraw(stack, agreement_id, "licensee failed due diligence")
    agreement_body = await agreement(stack, agreement_id)
    history = await ended(stack, agreement_body["workflow_id"], "withdrawn")
    timeline = _types(await events(stack, agreement_id))
    assert timeline[-4:] == ["ip_checks_completed", "finding_dismissed", "cleared", "withdrawn"]
    await keep(history, "clearance_dismissal_conditions_withdrawn_in_signature")


async def test_blocked_in_clearance(stack: Stack) -> None:
    task = await to_clearance(stack, proposal(title=_title("block"), ip_assets=[]))
    response = await clear(stack, task, "block", comment="Conflicts with an exclusive license")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "blocked"
    history = await ended(stack, response.json()["workflow_id"], "blocked")
    await keep(history, "blocked_in_clearance")


# --- signature and active --------------------------------------------------------------------


async def test_declined_revised_reviewed_cleared_then_signed_by_all(stack: Stack) -> None:
    """Sid signs first; Sofia declines; the officer revises; review and clearance again;
    both sign the new draft: active. Recorded while the agreement runs, waiting for its
    first report (the shape of most histories a deployment replays)."""
    clearance = await to_clearance(stack, proposal(title=_title("decline")))
    agreement_id = clearance["agreement_id"]
    response = await clear(stack, clearance)
    assert response.status_code == 200, response.text
    [first] = response.json()["open_tasks"]
    response = await sign(stack, first)
    assert response.status_code == 200, response.text
    [second] = response.json()["open_tasks"]
    declined = await _post(
        stack,
        "signatory2",
        f"/v1/tasks/{second['id']}/decision",
        {"outcome": "decline", "comment": "Clause 4 must name the Munich site"},
    )
    assert declined["status"] == "changes_requested", declined
    await _post(
        stack,
        "officer",
        f"/v1/agreements/{agreement_id}/revisions",
        {"summary": "Performed at the Munich site.", "comment": "Munich"},
    )
    assert (await review(stack, agreement_id))["status"] == "ip_clearance"
    [again] = (await agreement(stack, agreement_id))["open_tasks"]
    response = await clear(stack, again)
    assert response.status_code == 200, response.text
    active = await sign_all(stack, agreement_id)
    assert active["status"] == "active", active
    handle = stack.client.get_workflow_handle(active["workflow_id"])
    assert await settled(handle) == WorkflowExecutionStatus.RUNNING
    timeline = _types(await events(stack, agreement_id))
    assert "declined" in timeline and timeline[-3:] == ["signed", "signed", "activated"]
    await keep(await handle.fetch_history(), "declined_revised_signed_active_running")


async def test_envelope_expires(skipping: tuple[Stack, WorkflowEnvironment]) -> None:
    """Nobody signs: two reminders, then the envelope expires after 30 days."""
    stack, env = skipping
    clearance = await to_clearance(stack, proposal(title=_title("expiry")))
    response = await clear(stack, clearance)
    assert response.status_code == 200, response.text
    await skip_time(env, timedelta(days=31))
    history = await ended(stack, response.json()["workflow_id"], "expired")
    timeline = _types(await events(stack, clearance["agreement_id"]))
    assert timeline[-3:] == ["reminder", "reminder", "envelope_expired"], timeline
    await keep(history, "envelope_expired")


async def test_active_reports_overdue_then_completed(
    skipping: tuple[Stack, WorkflowEnvironment],
) -> None:
    """A one-year term: the milestone's report on time, the first half-year's report
    overdue then sent late, the second never sent (missed) when the term completes."""
    stack, env = skipping
    terms = {
        "exclusive": False,
        "territories": ["DE"],
        "term_months": 12,
        "reporting_period_months": 6,
        "milestones": [{"name": "First commercial sale", "due_after_months": 3}],
    }
    active = await to_active(stack, proposal(title=_title("term"), terms=terms))
    agreement_id = active["id"]

    async def opened(name: str) -> dict[str, Any]:
        async def check() -> dict[str, Any] | None:
            return next(
                (
                    o
                    for o in await obligations(stack, agreement_id)
                    if o["name"].startswith(name) and o["status"] == "open"
                ),
                None,
            )

        found: dict[str, Any] = await eventually(check, what=f"{name} opened")
        return found

    async def report(task_id: str) -> None:
        await _post(
            stack,
            "officer",
            f"/v1/tasks/{task_id}/decision",
            {"outcome": "submit", "report": REPORT},
        )

    await skip_time(env, timedelta(days=70))
    await report((await opened("First commercial sale"))["task_id"])
    await skip_time(env, timedelta(days=120))
    late = await opened("Report 1")

    async def flagged() -> bool:
        return bool((await agreement(stack, agreement_id))["overdue_obligations"] == 1)

    await eventually(flagged, what="the overdue flag")
    await report(late["task_id"])
    await skip_time(env, timedelta(days=200))
    history = await ended(stack, active["workflow_id"], "completed")
    assert [o["status"] for o in await obligations(stack, agreement_id)] == [
        "met",
        "met",
        "missed",
    ]
    timeline = _types(await events(stack, agreement_id))
    assert "obligation_overdue" in timeline and timeline[-1] == "completed", timeline
    await keep(history, "active_reports_overdue_completed")


async def test_active_terminated_by_an_admin(stack: Stack) -> None:
    terms = {
        "exclusive": False,
        "territories": ["DE"],
        "term_months": 12,
        "reporting_period_months": 6,
    }
    active = await to_active(stack, proposal(title=_title("termination"), terms=terms))
    await _post(
        stack,
        "admin",
        f"/v1/agreements/{active['id']}/termination",
        {"reason": "Licensee insolvent"},
    )
    history = await ended(stack, active["workflow_id"], "terminated")
    assert {o["status"] for o in await obligations(stack, active["id"])} == {"cancelled"}
    await keep(history, "active_terminated")


# --- timers and reassignment -----------------------------------------------------------------


async def test_reminders_escalation_and_reassignments(
    skipping: tuple[Stack, WorkflowEnvironment],
) -> None:
    """The technical review sits for days: two reminders and an escalation; an admin hands
    it to Sam with a new due date, which restarts the reminders; Sam approves; the legal
    task is handed to another group as it is (no new due date); then withdrawn."""
    stack, env = skipping
    submitted = await submit(stack, proposal(title=_title("reminders")))
    agreement_id = submitted["id"]
    task = await current_task(stack, agreement_id)
    # The 72-hour SLA: a reminder at half, one when due, an escalation a day after.
    await skip_time(env, timedelta(days=4, hours=12))

    async def notified(count: int) -> list[str] | None:
        timeline = _types(await events(stack, agreement_id))
        return timeline if len(timeline) >= count else None

    timeline = await eventually(lambda: notified(4), what="the reminders and escalation")
    assert timeline == ["submitted", "reminder", "reminder", "escalation"], timeline

    sam = await _user_id(stack, "security")
    due = await env.get_current_time() + timedelta(days=2)
    await _post(
        stack,
        "admin",
        f"/v1/tasks/{task['id']}/assignment",
        {"user_id": sam, "due_at": due.isoformat(), "reason": "the board is away"},
    )
    await skip_time(env, timedelta(days=1, hours=12))
    timeline = await eventually(lambda: notified(6), what="the restarted reminder")
    assert timeline[4:] == ["task_reassigned", "reminder"], timeline

    response = await decide(stack, "security", task["id"], "approve")
    assert response.status_code == 200, response.text
    legal = await current_task(stack, agreement_id)
    assert legal["step_key"] == "legal", legal
    await _post(
        stack,
        "admin",
        f"/v1/tasks/{legal['id']}/assignment",
        {"group": "security-review", "reason": "security questions first"},
    )
    await withdraw(stack, agreement_id, "the partner could not wait")
    history = await ended(stack, submitted["workflow_id"], "withdrawn")
    assert _types(await events(stack, agreement_id))[6:] == [
        "review_step_approved",
        "task_reassigned",
        "withdrawn",
    ]
    await keep(history, "reminders_escalation_reassignments")


# --- continue-as-new -------------------------------------------------------------------------


async def test_continued_as_new(short_history_stack: Stack) -> None:
    """The review goes on until the server suggests continue-as-new (after 40 events) and
    the first run hands over its Snapshot; the second run takes one more decision, then
    the officer withdraws. Both runs are recorded."""
    stack = short_history_stack
    submitted = await submit(stack, proposal(kind="defense_sharing", title=_title("runs")))
    agreement_id = submitted["id"]
    handle = stack.client.get_workflow_handle(submitted["workflow_id"])
    first = stack.client.get_workflow_handle(handle.id, run_id=(await handle.describe()).run_id)
    steps = [
        ("technical_dual", "reviewer1"),
        ("technical_dual", "reviewer2"),
        ("legal", "reviewer2"),
        ("security", "security"),
    ]
    taken = 0
    for step, actor in steps:
        await approve_step(stack, agreement_id, step, actor)
        taken += 1
        if await settled(first) == WorkflowExecutionStatus.CONTINUED_AS_NEW:
            break
    assert taken < len(steps), "the first run never continued as new"
    first_history = await first.fetch_history()
    handed_over = first_history.events[-1].workflow_execution_continued_as_new_event_attributes
    second = stack.client.get_workflow_handle(handle.id, run_id=handed_over.new_execution_run_id)

    step, actor = steps[taken]
    await approve_step(stack, agreement_id, step, actor)
    await withdraw(stack, agreement_id, "recorded across two runs")
    assert await handle.result() == "withdrawn"
    assert (await handle.describe()).run_id == second.run_id, "more than two runs"
    await keep(first_history, "continued_as_new_first_run")
    await keep(await second.fetch_history(), "continued_as_new_second_run")
