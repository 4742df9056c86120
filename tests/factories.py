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
