"""The years an agreement is active, on Temporal's time-skipping test server: reports due,
overdue, the end of the term, termination, and continue-as-new over a long term."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio.testing import WorkflowEnvironment

from tests.factories import (
    agreement,
    events,
    eventually,
    obligations,
    proposal,
    register_asset,
    skip_time,
    to_active,
)
from tests.stack import Stack


def terms(**overrides: Any) -> dict[str, Any]:
    body = {
        "exclusive": False,
        "territories": ["DE"],
        "term_months": 12,
        "reporting_period_months": 6,
        "milestones": [{"name": "First commercial sale", "due_after_months": 3}],
    }
    body.update(overrides)
    return body


async def submit_report(stack: Stack, task_id: str, **figures: Any) -> dict[str, Any]:
    report = {"narrative": "Sales started in Bavaria.", "income": "1500.00", "units": 12}
    report.update(figures)
    response = await stack.actor("officer").post(
        f"/v1/tasks/{task_id}/decision", json={"outcome": "submit", "report": report}
    )
    assert response.status_code == 200, response.text
    return response.json()


async def open_obligation(stack: Stack, agreement_id: str, name: str) -> dict[str, Any]:
    async def opened() -> dict[str, Any] | None:
        for item in await obligations(stack, agreement_id):
            if item["name"].startswith(name) and item["status"] == "open":
                return item
        return None

    found: dict[str, Any] = await eventually(opened, what=f"{name} opened")
    return found


async def test_reports_on_time_then_overdue_then_completion_after_the_term(
    time_skipping_stack: Stack, time_skipping_env: WorkflowEnvironment
) -> None:
    stack, env = time_skipping_stack, time_skipping_env
    registered = await register_asset(stack)
    active = await to_active(stack, proposal(terms=terms(), ip_assets=[registered["identifier"]]))
    agreement_id = active["id"]
    owed = await obligations(stack, agreement_id)
    assert [(o["kind"], o["status"]) for o in owed] == [
        ("milestone", "pending"),
        ("report", "pending"),
        ("report", "pending"),
    ]

    # Two months in, the milestone's task opens (30 days before it is due): met on time.
    await skip_time(env, timedelta(days=70))
    milestone = await open_obligation(stack, agreement_id, "First commercial sale")
    inbox = (await stack.actor("officer").get("/v1/tasks", params={"assignee": "me"})).json()
    assert milestone["task_id"] in {t["id"] for t in inbox["items"]}
    await submit_report(stack, milestone["task_id"])
    met = next(o for o in await obligations(stack, agreement_id) if o["id"] == milestone["id"])
    assert met["status"] == "met" and not met["overdue"]
    assert met["report"]["income"] == "1500.00"

    # The first periodic report is left to go overdue: flagged on the agreement.
    await skip_time(env, timedelta(days=120))
    report = await open_obligation(stack, agreement_id, "Report 1")

    async def flagged() -> bool:
        return bool((await agreement(stack, agreement_id))["overdue_obligations"] == 1)

    await eventually(flagged, what="overdue flag")
    timeline = [e["type"] for e in await events(stack, agreement_id)]
    assert "obligation_overdue" in timeline
    late = await submit_report(stack, report["task_id"], income="900.00")
    assert late["overdue_obligations"] == 0
    submitted = [e for e in await events(stack, agreement_id) if e["type"] == "report_submitted"]
    assert [e["data"]["late"] for e in submitted] == [False, True]

    # The term ends at 12 months: completed; the last report, never sent, is missed.
    await skip_time(env, timedelta(days=200))

    async def completed() -> dict[str, Any] | None:
        body = await agreement(stack, agreement_id)
        return body if body["status"] == "completed" else None

    done = await eventually(completed, what="completion")
    assert done["open_tasks"] == []
    final = await obligations(stack, agreement_id)
    assert [o["status"] for o in final] == ["met", "met", "missed"]
    asset = (await stack.actor("counsel").get(f"/v1/ip-assets/{registered['identifier']}")).json()
    granted = [lic for lic in asset["licenses"] if lic["agreement_id"] == agreement_id]
    assert granted and not granted[0]["active"]
    timeline = await events(stack, agreement_id)
    assert [e["seq"] for e in timeline] == list(range(1, len(timeline) + 1))
    assert timeline[-1]["type"] == "completed"


async def test_termination_of_an_active_agreement_cancels_what_is_owed(
    time_skipping_stack: Stack, time_skipping_env: WorkflowEnvironment
) -> None:
    stack = time_skipping_stack
    active = await to_active(stack, proposal(terms=terms(term_months=24)))
    forbidden = await stack.actor("officer").post(
        f"/v1/agreements/{active['id']}/termination", json={"reason": "no"}
    )
    assert forbidden.status_code == 403
    response = await stack.actor("admin").post(
        f"/v1/agreements/{active['id']}/termination", json={"reason": "licensee insolvent"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "terminated"
    assert {o["status"] for o in await obligations(stack, active["id"])} == {"cancelled"}
    again = await stack.actor("admin").post(
        f"/v1/agreements/{active['id']}/termination", json={"reason": "twice"}
    )
    assert again.status_code == 409
    # Time passing changes nothing any more.
    await skip_time(time_skipping_env, timedelta(days=400))
    assert (await agreement(stack, active["id"]))["status"] == "terminated"


async def test_a_long_term_continues_as_new_and_keeps_its_history_small(
    time_skipping_stack: Stack, time_skipping_env: WorkflowEnvironment
) -> None:
    """Two years of quarterly reports, each one submitted: the workflow continues as new
    many times, every run's history stays near the limit, and nothing is lost."""
    stack, env = time_skipping_stack, time_skipping_env
    body = proposal(terms=terms(term_months=24, reporting_period_months=3, milestones=[]))
    active = await to_active(stack, body)
    agreement_id = active["id"]
    handle = stack.client.get_workflow_handle(active["workflow_id"])
    first_run = (await handle.describe()).run_id

    for number in range(1, 9):
        # To about ten days before each quarter's report is due: its task is open.
        await skip_time(env, timedelta(days=80 if number == 1 else 91))
        owed = await open_obligation(stack, agreement_id, f"Report {number} ")
        await submit_report(stack, owed["task_id"], income=f"{number}00.00")

    await skip_time(env, timedelta(days=30))

    async def completed() -> bool:
        return bool((await agreement(stack, agreement_id))["status"] == "completed")

    await eventually(completed, what="completion")
    assert (await handle.describe()).run_id != first_run, "never continued as new"
    history = await handle.fetch_history()
    assert len(history.events) < 300, len(history.events)
    owed = await obligations(stack, agreement_id)
    assert [o["status"] for o in owed] == ["met"] * 8
    timeline = await events(stack, agreement_id)
    assert [e["seq"] for e in timeline] == list(range(1, len(timeline) + 1))
    assert len([e for e in timeline if e["type"] == "report_submitted"]) == 8
