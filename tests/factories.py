"""Proposals and lifecycle steps, driven through the HTTP API as users would."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.stack import Stack


def proposal(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": f"Perovskite solar cell license {uuid.uuid4().hex[:8]}",
        "kind": "license",
        "summary": "Exclusive license of the perovskite tandem-cell patent family.",
        "parties": [
            {"name": "State University", "country": "US", "role": "licensor"},
            {"name": "Helio GmbH", "country": "DE", "role": "licensee"},
        ],
        "ip_assets": ["US-11223344-B2"],
        "terms": {
            "exclusive": True,
            "field_of_use": "photovoltaics",
            "territories": ["DE", "FR"],
            "term_months": 60,
            "royalty_rate": "3.5",
            "reporting_period_months": 6,
        },
        "estimated_value": "250000.00",
    }
    body.update(overrides)
    return body


async def submit(
    stack: Stack, body: dict[str, Any] | None = None, **headers: str
) -> dict[str, Any]:
    response = await stack.actor("officer").post(
        "/v1/proposals", json=body or proposal(), headers=headers
    )
    assert response.status_code == 201, response.text
    return response.json()


async def agreement(stack: Stack, agreement_id: str) -> dict[str, Any]:
    response = await stack.actor("admin").get(f"/v1/agreements/{agreement_id}")
    assert response.status_code == 200, response.text
    return response.json()


async def current_task(stack: Stack, agreement_id: str) -> dict[str, Any]:
    tasks = (await agreement(stack, agreement_id))["open_tasks"]
    assert len(tasks) == 1, tasks
    return tasks[0]


async def decide(
    stack: Stack, actor: str, task_id: str, outcome: str, comment: str = "looks right"
) -> httpx.Response:
    return await stack.actor(actor).post(
        f"/v1/tasks/{task_id}/decision", json={"outcome": outcome, "comment": comment}
    )


async def approve_step(stack: Stack, agreement_id: str, step: str, *actors: str) -> dict[str, Any]:
    """Approve the current step, which must be `step`, by each actor in turn."""
    task = await current_task(stack, agreement_id)
    assert task["step_key"] == step, task
    body: dict[str, Any] = {}
    for actor in actors:
        response = await decide(stack, actor, task["id"], "approve")
        assert response.status_code == 200, response.text
        body = response.json()
    return body


async def events(stack: Stack, agreement_id: str) -> list[dict[str, Any]]:
    response = await stack.actor("admin").get(f"/v1/agreements/{agreement_id}/events")
    assert response.status_code == 200, response.text
    return response.json()


async def full_review(stack: Stack, title: str) -> dict[str, Any]:
    """A defense-sharing review with every kind of step: two votes on a group step, a
    proposal returned for changes, a revision, then approval through to ip_clearance.
    Returns the agreement as the last approval left it."""
    submitted = await submit(stack, proposal(kind="defense_sharing", title=title))
    agreement_id = submitted["id"]
    await approve_step(stack, agreement_id, "technical_dual", "reviewer1", "reviewer2")
    legal = await current_task(stack, agreement_id)
    response = await decide(stack, "reviewer2", legal["id"], "request_changes", "narrow scope")
    assert response.status_code == 200, response.text
    revised = await stack.actor("officer").post(
        f"/v1/agreements/{agreement_id}/revisions", json={"summary": "Narrowed scope."}
    )
    assert revised.status_code == 200, revised.text
    await approve_step(stack, agreement_id, "technical_dual", "reviewer2", "reviewer1")
    await approve_step(stack, agreement_id, "legal", "reviewer2")
    final = await approve_step(stack, agreement_id, "security", "security")
    assert final["status"] == "ip_clearance", final
    return final


async def withdraw(stack: Stack, agreement_id: str, reason: str = "no longer needed") -> None:
    response = await stack.actor("officer").post(
        f"/v1/agreements/{agreement_id}/withdrawal", json={"reason": reason}
    )
    assert response.status_code == 200, response.text
