"""Active reporting: obligations, report tasks, submitted reports, and termination.

On the dev server only the moments reachable now: reports whose task opens at
activation (a lead longer than the term), and the default lead, where nothing opens
yet. Overdue reports and the end of the term are covered with the time-skipping server.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from services.config import Settings
from tests.factories import (
    agreement,
    events,
    eventually,
    obligations,
    proposal,
    register_asset,
    submit,
    task,
    to_active,
)
from tests.stack import Mailbox, Stack, running_stack
from workflows.term.obligations import add_months

REPORT = {
    "narrative": "First half-year: pilot line commissioned, first modules shipped.",
    "income": "1200.50",
    "units": 10,
    "sublicenses": 1,
    "attachments": [{"name": "H1 statement", "url": "https://files.example.org/h1.pdf"}],
}


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _types(timeline: list[dict[str, Any]]) -> list[str]:
    return [e["type"] for e in timeline]


def _with_milestone() -> dict[str, Any]:
    body = proposal()
    body["terms"]["milestones"] = [{"name": "First sale", "due_after_months": 12}]
    return body


@pytest.fixture
async def reporting_stack(
    base_settings: Settings,
    temporal_client: Client,
    engine: AsyncEngine,
    tokens: dict[str, str],
    screening_list: None,
) -> AsyncIterator[Stack]:
    """A lead longer than any term: every report task opens as the agreement takes effect."""
    async with running_stack(
        base_settings, temporal_client, engine, tokens, report_lead_days=100_000
    ) as stack:
        yield stack


@pytest.fixture
async def impatient_stack(
    base_settings: Settings,
    temporal_client: Client,
    engine: AsyncEngine,
    tokens: dict[str, str],
    screening_list: None,
) -> AsyncIterator[Stack]:
    """Report tasks open at activation, and a command unconfirmed in 3 seconds is a 504."""
    async with running_stack(
        base_settings,
        temporal_client,
        engine,
        tokens,
        report_lead_days=100_000,
        update_timeout_seconds=3,
    ) as stack:
        yield stack


async def _all_open(stack: Stack, agreement_id: str, count: int) -> list[dict[str, Any]]:
    """The obligations once every one of the `count` has its task open."""

    async def opened() -> list[dict[str, Any]] | None:
        found = await obligations(stack, agreement_id)
        if len(found) == count and all(o["status"] == "open" for o in found):
            return found
        return None

    return await eventually(opened, within=20, what=f"{count} open obligations")


async def _decide(stack: Stack, actor: str, task_id: str, body: dict[str, Any]) -> Any:
    return await stack.actor(actor).post(f"/v1/tasks/{task_id}/decision", json=body)


async def test_every_obligation_opens_its_report_task_at_activation(
    reporting_stack: Stack, mailbox: Mailbox
) -> None:
    stack = reporting_stack
    active = await to_active(stack, _with_milestone())
    agreement_id = active["id"]
    effective_at = _at(active["effective_at"])
    assert _at(active["ends_at"]) == add_months(effective_at, 60)

    found = await _all_open(stack, agreement_id, 11)
    reports = [o for o in found if o["kind"] == "report"]
    milestones = [o for o in found if o["kind"] == "milestone"]
    assert [o["name"] for o in reports] == [f"Report {n} (6-month period)" for n in range(1, 11)]
    assert [_at(o["due_at"]) for o in reports] == [
        add_months(effective_at, 6 * n) for n in range(1, 11)
    ]
    [milestone] = milestones
    assert milestone["name"] == "First sale"
    assert _at(milestone["due_at"]) == add_months(effective_at, 12)
    assert all(_at(o["opens_at"]) == effective_at for o in found)
    assert all(o["met_at"] is None and o["report"] is None for o in found)
    assert not any(o["overdue"] for o in found)
    task_ids = [o["task_id"] for o in found]
    assert all(task_ids) and len(set(task_ids)) == 11

    # The officer's inbox holds the report tasks, each due with its obligation.
    response = await stack.actor("officer").get(
        "/v1/tasks", params={"assignee": "me", "agreement_id": agreement_id}
    )
    assert response.status_code == 200, response.text
    inbox = response.json()["items"]
    assert sorted(t["id"] for t in inbox) == sorted(task_ids)
    assert {t["kind"] for t in inbox} == {"report"}
    assert {t["assignee"]["name"] for t in inbox} == {"Olivia Officer"}
    by_id = {o["task_id"]: o for o in found}
    for item in inbox:
        assert _at(item["due_at"]) == _at(by_id[item["id"]]["due_at"])
        assert item["step_name"] == by_id[item["id"]]["name"]
        assert item["status"] == "open" and item["overdue"] is False

    first = reports[0]
    detail = await stack.actor("officer").get(f"/v1/tasks/{first['task_id']}")
    assert detail.status_code == 200, detail.text
    assert detail.json()["obligation"]["id"] == first["id"]
    assert detail.json()["obligation"]["status"] == "open"

    timeline = await events(stack, agreement_id)
    assert _types(timeline).count("obligation_opened") == 11
    assert timeline[_types(timeline).index("activated")]["data"]["obligations"] == 11
    await mailbox.wait_for(
        lambda m: (
            m["To"] == "olivia.officer@accord.test"
            and active["title"] in m["Subject"]
            and m["Subject"].startswith("New task: Report")
        ),
        count=10,
    )


async def test_a_submitted_report_meets_its_obligation(reporting_stack: Stack) -> None:
    stack = reporting_stack
    active = await to_active(stack)
    found = await _all_open(stack, active["id"], 10)
    first, second = found[0], found[1]
    task_id = first["task_id"]

    missing = await _decide(stack, "officer", task_id, {"outcome": "submit"})
    assert missing.status_code == 422, missing.text
    assert missing.json()["detail"][0]["loc"] == ["body", "report"]
    negative = await _decide(
        stack, "officer", task_id, {"outcome": "submit", "report": {**REPORT, "income": "-1"}}
    )
    assert negative.status_code == 422, negative.text
    assert negative.json()["detail"][0]["loc"][:3] == ["body", "report", "income"]
    no_narrative = await _decide(
        stack, "officer", task_id, {"outcome": "submit", "report": {**REPORT, "narrative": " "}}
    )
    assert no_narrative.status_code == 422, no_narrative.text
    bad_link = await _decide(
        stack,
        "officer",
        task_id,
        {"outcome": "submit", "report": {**REPORT, "attachments": [{"name": "x", "url": "x"}]}},
    )
    assert bad_link.status_code == 422, bad_link.text
    stranger = await _decide(stack, "reviewer1", task_id, {"outcome": "submit", "report": REPORT})
    assert stranger.status_code == 403, stranger.text
    assert (await task(stack, task_id))["status"] == "open"

    response = await _decide(stack, "officer", task_id, {"outcome": "submit", "report": REPORT})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "active"

    after = {o["id"]: o for o in await obligations(stack, active["id"])}
    met = after[first["id"]]
    assert met["status"] == "met" and met["met_at"] is not None
    report = met["report"]
    assert report["narrative"] == REPORT["narrative"]
    assert Decimal(report["income"]) == Decimal("1200.50")
    assert (report["units"], report["sublicenses"]) == (10, 1)
    assert report["attachments"] == REPORT["attachments"]
    assert after[second["id"]]["status"] == "open"
    assert sum(o["status"] == "open" for o in after.values()) == 9

    closed = await task(stack, task_id)
    assert (closed["status"], closed["outcome"]) == ("done", "submit")
    assert closed["obligation"]["status"] == "met"
    event = (await events(stack, active["id"]))[-1]
    assert event["type"] == "report_submitted"
    assert event["data"]["obligation_id"] == first["id"]
    assert event["data"]["income"] == "1200.50"
    assert event["data"]["late"] is False

    status_report = await stack.actor("officer").get(f"/v1/agreements/{active['id']}/status-report")
    line = next(o for o in status_report.json()["obligations"] if o["name"] == first["name"])
    assert line["status"] == "met" and Decimal(line["income"]) == Decimal("1200.50")

    again = await _decide(stack, "officer", task_id, {"outcome": "submit", "report": REPORT})
    assert again.status_code == 409, again.text
    assert _types(await events(stack, active["id"])).count("report_submitted") == 1


async def test_with_the_default_lead_no_report_task_opens_at_activation(stack: Stack) -> None:
    active = await to_active(stack)
    effective_at = _at(active["effective_at"])
    found = await obligations(stack, active["id"])
    assert len(found) == 10
    assert all(o["status"] == "pending" and o["task_id"] is None for o in found)
    for n, obligation in enumerate(found, 1):
        due_at = _at(obligation["due_at"])
        assert due_at == add_months(effective_at, 6 * n)
        assert _at(obligation["opens_at"]) == due_at - timedelta(days=30)

    # Give the workflow's timer loop a moment: nothing is due for months.
    await asyncio.sleep(1)
    assert all(o["status"] == "pending" for o in await obligations(stack, active["id"]))
    assert (await agreement(stack, active["id"]))["open_tasks"] == []
    assert _types(await events(stack, active["id"]))[-1] == "activated"


async def test_termination_cancels_open_reports_and_ends_the_license(
    reporting_stack: Stack, mailbox: Mailbox
) -> None:
    stack = reporting_stack
    registered = await register_asset(stack)
    active = await to_active(stack, proposal(ip_assets=[registered["identifier"]]))
    agreement_id = active["id"]
    found = await _all_open(stack, agreement_id, 10)
    submitted = await _decide(
        stack, "officer", found[0]["task_id"], {"outcome": "submit", "report": REPORT}
    )
    assert submitted.status_code == 200, submitted.text
    url = f"/v1/agreements/{agreement_id}/termination"

    officer = await stack.actor("officer").post(url, json={"reason": "licensee insolvent"})
    assert officer.status_code == 403, officer.text
    no_reason = await stack.actor("admin").post(url, json={})
    assert no_reason.status_code == 422, no_reason.text

    reason = "Licensee insolvent; agreement ended by the board"
    response = await stack.actor("admin").post(url, json={"reason": reason})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "terminated" and body["stage"] == "closed"
    assert body["open_tasks"] == []

    after = {o["id"]: o for o in await obligations(stack, agreement_id)}
    assert after[found[0]["id"]]["status"] == "met"
    assert [after[o["id"]]["status"] for o in found[1:]] == ["cancelled"] * 9
    for obligation in found[1:]:
        assert (await task(stack, obligation["task_id"]))["status"] == "cancelled"
    late = await _decide(
        stack, "officer", found[1]["task_id"], {"outcome": "submit", "report": REPORT}
    )
    assert late.status_code == 409, late.text

    event = (await events(stack, agreement_id))[-1]
    asset = (await stack.actor("counsel").get(f"/v1/ip-assets/{registered['identifier']}")).json()
    [license_] = asset["licenses"]
    assert license_["agreement_id"] == agreement_id
    assert license_["active"] is False
    assert license_["ends_on"] == event["at"][:10]

    assert event["type"] == "terminated"
    assert (event["from_status"], event["to_status"]) == ("active", "terminated")
    assert event["data"]["reason"] == reason
    assert event["actor"]["name"] == "Ada Admin"
    await mailbox.wait_for(
        lambda m: (
            m["To"] == "olivia.officer@accord.test"
            and active["title"] in m["Subject"]
            and "terminated" in m["Subject"]
        )
    )

    again = await stack.actor("admin").post(url, json={"reason": "twice"})
    assert again.status_code == 409, again.text


async def test_termination_cancels_pending_obligations(stack: Stack) -> None:
    active = await to_active(stack)
    assert {o["status"] for o in await obligations(stack, active["id"])} == {"pending"}
    response = await stack.actor("admin").post(
        f"/v1/agreements/{active['id']}/termination", json={"reason": "funding withdrawn"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "terminated"
    after = await obligations(stack, active["id"])
    assert len(after) == 10 and {o["status"] for o in after} == {"cancelled"}
    assert all(o["task_id"] is None for o in after)


async def test_termination_works_on_an_agreement_still_in_review(stack: Stack) -> None:
    submitted = await submit(stack)
    [review_task] = submitted["open_tasks"]
    url = f"/v1/agreements/{submitted['id']}/termination"
    response = await stack.actor("admin").post(url, json={"reason": "duplicate of another"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "terminated" and body["open_tasks"] == []
    assert body["effective_at"] is None
    assert (await task(stack, review_task["id"]))["status"] == "cancelled"
    assert await obligations(stack, submitted["id"]) == []
    assert _types(await events(stack, submitted["id"])) == ["submitted", "terminated"]
    late = await stack.actor("reviewer1").post(
        f"/v1/tasks/{review_task['id']}/decision", json={"outcome": "approve"}
    )
    assert late.status_code == 409, late.text
    again = await stack.actor("admin").post(url, json={"reason": "again"})
    assert again.status_code == 409, again.text


@pytest.mark.parametrize(("field", "value"), [("units", 2**31), ("sublicenses", 2**63)])
async def test_a_figure_beyond_the_database_integer_is_refused(
    impatient_stack: Stack, field: str, value: int
) -> None:
    stack = impatient_stack
    active = await to_active(stack)
    found = await _all_open(stack, active["id"], 10)
    response = await _decide(
        stack,
        "officer",
        found[0]["task_id"],
        {"outcome": "submit", "report": {**REPORT, field: value}},
    )
    assert response.status_code == 422, response.text
    # The agreement still takes the next report.
    response = await _decide(
        stack, "officer", found[1]["task_id"], {"outcome": "submit", "report": REPORT}
    )
    assert response.status_code == 200, response.text
