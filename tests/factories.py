"""Proposals and lifecycle steps, driven through the HTTP API as users would."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

import httpx
from temporalio.api.enums.v1 import EventType
from temporalio.api.testservice.v1 import SleepRequest
from temporalio.api.workflowservice.v1 import ListOpenWorkflowExecutionsRequest
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from services.demo import DEMO_USERS, STEP_DECIDERS
from tests.stack import Stack

T = TypeVar("T")


def proposal(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": f"Perovskite solar cell license {uuid.uuid4().hex[:8]}",
        "kind": "license",
        "summary": "Exclusive license of the perovskite tandem-cell patent family.",
        "parties": [
            {"name": "State University", "country": "US", "role": "licensor"},
            {"name": "Helio GmbH", "country": "DE", "role": "licensee"},
        ],
        # Registered assets are added where a test needs them (see register_asset): an
        # unregistered one is a critical finding that stops a plain clear.
        "ip_assets": [],
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
    if "signatories" not in overrides:
        # Sid signs for the first party, then Sofia for the second, if there is one.
        signers = ("sid.signatory@accord.test", "sofia.signatory@accord.test")
        body["signatories"] = [
            {"email": email, "on_behalf_of": party["name"], "order": order}
            for order, (email, party) in enumerate(zip(signers, body["parties"], strict=False), 1)
        ]
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


# --- beyond review: IP clearance, signature, reporting ---------------------------------

# Who decides each review step of the shipped policy.
REVIEWERS = STEP_DECIDERS
SIGNERS = {u.email: u.key for u in DEMO_USERS if u.role == "signatory"}


def asset(**overrides: Any) -> dict[str, Any]:
    """A registered, granted patent with its inventors' assignments recorded."""
    body: dict[str, Any] = {
        "identifier": f"US-{uuid.uuid4().int % 10**8:08d}-B2",
        "asset_type": "patent",
        "title": "Perovskite tandem solar cell",
        "jurisdiction": "US",
        "status": "granted",
        "owner": "State University",
        "filed_on": "2019-03-01",
        "expires_on": "2039-03-01",
        "inventors": [{"name": "Ada Lovelace", "assignment_recorded": True}],
        "funding": [],
    }
    body.update(overrides)
    return body


async def register_asset(stack: Stack, **overrides: Any) -> dict[str, Any]:
    response = await stack.actor("counsel").post("/v1/ip-assets", json=asset(**overrides))
    assert response.status_code == 201, response.text
    return response.json()


async def review(stack: Stack, agreement_id: str) -> dict[str, Any]:
    """Approve every review step in turn; returns the agreement after the last one."""
    body = await agreement(stack, agreement_id)
    while body["status"] == "in_review":
        task = await current_task(stack, agreement_id)
        body = await approve_step(
            stack, agreement_id, task["step_key"], *REVIEWERS[task["step_key"]]
        )
    return body


async def to_clearance(stack: Stack, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """Submit and review: the agreement waits on counsel, its findings on the task."""
    submitted = await submit(stack, body)
    reviewed = await review(stack, submitted["id"])
    assert reviewed["status"] == "ip_clearance", reviewed
    return await clearance_task(stack, submitted["id"])


async def clearance_task(stack: Stack, agreement_id: str) -> dict[str, Any]:
    task = await current_task(stack, agreement_id)
    assert task["kind"] == "ip_clearance", task
    response = await stack.actor("counsel").get(f"/v1/tasks/{task['id']}")
    assert response.status_code == 200, response.text
    return response.json()


async def clear(
    stack: Stack, task: dict[str, Any], outcome: str = "clear", **fields: Any
) -> httpx.Response:
    return await stack.actor("counsel").post(
        f"/v1/tasks/{task['id']}/decision", json={"outcome": outcome, **fields}
    )


async def signature_tasks(stack: Stack, agreement_id: str) -> list[dict[str, Any]]:
    tasks = (await agreement(stack, agreement_id))["open_tasks"]
    assert all(t["kind"] == "signature" for t in tasks), tasks
    return tasks


async def sign(
    stack: Stack, task: dict[str, Any], digest: str | None = None, **headers: str
) -> httpx.Response:
    """Sign as the task's assignee, on the document hash the task shows (or `digest`)."""
    actor = await signer_of(stack, task)
    detail = (await stack.actor(actor).get(f"/v1/tasks/{task['id']}")).json()
    return await stack.actor(actor).post(
        f"/v1/tasks/{task['id']}/decision",
        json={"outcome": "sign", "document_sha256": digest or detail["document"]["sha256"]},
        headers=headers,
    )


async def signer_of(stack: Stack, task: dict[str, Any]) -> str:
    users = (await stack.actor("admin").get("/v1/users", params={"role": "signatory"})).json()
    email = next(u["email"] for u in users if u["id"] == task["assignee"]["id"])
    return SIGNERS[email]


async def sign_all(stack: Stack, agreement_id: str) -> dict[str, Any]:
    """Every signatory signs, order by order; returns the agreement after the last."""
    body = await agreement(stack, agreement_id)
    while body["status"] == "in_signature":
        for task in body["open_tasks"]:
            response = await sign(stack, task)
            assert response.status_code == 200, response.text
        body = await agreement(stack, agreement_id)
    return body


async def to_active(stack: Stack, body: dict[str, Any] | None = None) -> dict[str, Any]:
    task = await to_clearance(stack, body)
    response = await clear(stack, task)
    assert response.status_code == 200, response.text
    active = await sign_all(stack, task["agreement_id"])
    assert active["status"] == "active", active
    return active


# --- signature and reporting helpers ----------------------------------------------------


def parallel_signatories() -> list[dict[str, Any]]:
    """Sid and Sofia sign at once (the same order), each for one default party."""
    return [
        {"email": "sid.signatory@accord.test", "on_behalf_of": "State University", "order": 1},
        {"email": "sofia.signatory@accord.test", "on_behalf_of": "Helio GmbH", "order": 1},
    ]


def pdf_text(content: bytes) -> str:
    """The text of a PDF, whitespace collapsed to single spaces."""
    import io

    from pypdf import PdfReader

    pages = PdfReader(io.BytesIO(content)).pages
    return " ".join(" ".join(page.extract_text() for page in pages).split())


async def eventually(
    check: Callable[[], Awaitable[T | None]], *, within: float = 60, what: str = "condition"
) -> T:
    """Poll `check` until it returns something truthy; fail after `within` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        result = await check()
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"{what} not reached within {within}s; last: {result!r}")
        await asyncio.sleep(0.1)


async def pages(client: httpx.AsyncClient, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every page of a keyset-paged list, following `next_cursor` until it is null."""
    found: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        query = params if cursor is None else {**params, "cursor": cursor}
        response = await client.get(path, params=query)
        assert response.status_code == 200, response.text
        found.append(response.json())
        cursor = found[-1]["next_cursor"]
        if cursor is None:
            return found


async def skip_time(env: WorkflowEnvironment, duration: timedelta) -> None:
    """Skip `duration` on the time-skipping server. Unlike `env.sleep`, give the call
    minutes: the server returns only once every timer in the span has fired and its
    activities ran, which on a loaded machine outlasts the default RPC timeout."""
    request = SleepRequest()
    request.duration.FromTimedelta(duration)
    try:
        await env.client.test_service.unlock_time_skipping_with_sleep(
            request, timeout=timedelta(minutes=3)
        )
    except RPCError as err:
        stuck = await _in_flight(env)
        raise AssertionError(f"skipping {duration} failed ({err}); {stuck}") from err


async def _in_flight(env: WorkflowEnvironment) -> str:
    """What holds the test server's clock: open workflows' pending activities and the
    tail of their histories (a workflow or activity task in flight stops time skipping)."""
    listing = await env.client.workflow_service.list_open_workflow_executions(
        ListOpenWorkflowExecutionsRequest(namespace=env.client.namespace, maximum_page_size=100)
    )
    lines = []
    for execution in listing.executions:
        handle = env.client.get_workflow_handle(
            execution.execution.workflow_id, run_id=execution.execution.run_id
        )
        described = (await handle.describe()).raw_description
        pending = [
            f"{a.activity_type.name} attempt {a.attempt} ({a.last_failure.message[:300]!r})"
            for a in described.pending_activities
        ]
        history = (await handle.fetch_history()).events
        tail = [EventType.Name(e.event_type).removeprefix("EVENT_TYPE_") for e in history[-6:]]
        failures = [
            e.activity_task_failed_event_attributes.failure.message[:300]
            for e in history
            if e.HasField("activity_task_failed_event_attributes")
        ][-2:]
        queue = described.execution_config.task_queue.name
        lines.append(
            f"{handle.id} on {queue}: pending {pending}, last events {tail},"
            f" last activity failures {failures}"
        )
    return "open workflows:\n" + "\n".join(lines)


async def obligations(stack: Stack, agreement_id: str) -> list[dict[str, Any]]:
    response = await stack.actor("admin").get(f"/v1/agreements/{agreement_id}/obligations")
    assert response.status_code == 200, response.text
    return response.json()


async def task(stack: Stack, task_id: str) -> dict[str, Any]:
    response = await stack.actor("admin").get(f"/v1/tasks/{task_id}")
    assert response.status_code == 200, response.text
    return response.json()
