"""Bad input gets a clear error and loses nothing: no row, no workflow, no 5xx."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from services.demo import DEMO_USERS
from services.store import Agreement, AgreementEvent
from tests.factories import agreement, current_task, decide, events, proposal, submit
from tests.stack import Stack

Watch = Callable[[httpx.AsyncClient], httpx.AsyncClient]


@pytest.fixture(autouse=True)
async def watch(stack: Stack) -> AsyncIterator[Watch]:
    """Record every response of every client a test uses; none may be a 5xx."""
    seen: list[httpx.Response] = []
    watched: list[httpx.AsyncClient] = []

    async def record(response: httpx.Response) -> None:
        seen.append(response)

    def add(client: httpx.AsyncClient) -> httpx.AsyncClient:
        client.event_hooks["response"].append(record)
        watched.append(client)
        return client

    for client in (stack.api, *(stack.actor(u.key) for u in DEMO_USERS)):
        add(client)
    yield add
    for client in watched:
        client.event_hooks["response"].remove(record)
    server_errors = [
        f"{r.request.method} {r.request.url} -> {r.status_code}" for r in seen if r.is_server_error
    ]
    assert server_errors == []


def locs(response: httpx.Response) -> list[tuple[Any, ...]]:
    assert response.status_code == 422, response.text
    return [tuple(error["loc"]) for error in response.json()["detail"]]


async def agreement_rows(stack: Stack, **where: str) -> int:
    stmt = select(func.count()).select_from(Agreement).filter_by(**where)
    async with stack.sessions() as session:
        return int(await session.scalar(stmt) or 0)


async def submitted_events(stack: Stack, agreement_id: str) -> int:
    stmt = select(func.count()).where(
        AgreementEvent.agreement_id == agreement_id, AgreementEvent.type == "submitted"
    )
    async with stack.sessions() as session:
        return int(await session.scalar(stmt) or 0)


@pytest.fixture
async def other_officer(stack: Stack, watch: Watch) -> AsyncIterator[httpx.AsyncClient]:
    """A second program officer, created by the admin, with a client of their own."""
    created = await stack.actor("admin").post(
        "/v1/users",
        json={
            "email": f"otto.{uuid.uuid4().hex[:8]}@accord.test",
            "name": "Otto Officer",
            "role": "program_officer",
        },
    )
    assert created.status_code == 201, created.text
    async with stack.client_for(created.json()["token"]) as client:
        yield watch(client)


# --- malformed proposals ------------------------------------------------------------


def _without(field: str) -> dict[str, Any]:
    body = proposal()
    del body[field]
    return body


def _with_terms(**terms: Any) -> dict[str, Any]:
    body = proposal()
    body["terms"] = {**body["terms"], **terms}
    return body


MALFORMED = {
    "missing title": (_without("title"), ("body", "title")),
    "blank title": (proposal(title="   "), ("body", "title")),
    "unknown kind": (proposal(kind="lease"), ("body", "kind")),
    "country spelled out": (
        proposal(
            parties=[
                {"name": "State University", "country": "US", "role": "licensor"},
                {"name": "Helio GmbH", "country": "Germany", "role": "licensee"},
            ]
        ),
        ("body", "parties", 1, "country"),
    ),
    "no parties": (proposal(parties=[]), ("body", "parties")),
    "zero term": (_with_terms(term_months=0), ("body", "terms", "term_months")),
    "bad territory": (_with_terms(territories=["Europe"]), ("body", "terms", "territories", 0)),
    "negative value": (proposal(estimated_value="-1.00"), ("body", "estimated_value")),
    "unknown field": (proposal(priority="urgent"), ("body", "priority")),
    # PostgreSQL text cannot store NUL; it used to hang the submission in retries.
    "NUL in title": (proposal(title="nul\u0000byte"), ("body", "title")),
    "NUL in a party name": (
        proposal(parties=[{"name": "Helio\u0000GmbH", "country": "DE", "role": "licensee"}]),
        ("body", "parties", 0, "name"),
    ),
    # Found by the OpenAPI fuzzer: the e-mail went into a lookup, a 500 on PostgreSQL.
    "NUL in a signatory's e-mail": (
        proposal(
            signatories=[
                {"email": "sid\u0000@accord.test", "on_behalf_of": "State University"},
            ]
        ),
        ("body", "signatories", 0, "email"),
    ),
}


@pytest.mark.parametrize(("body", "loc"), MALFORMED.values(), ids=MALFORMED.keys())
async def test_malformed_proposal_is_refused_naming_the_field(
    stack: Stack, body: dict[str, Any], loc: tuple[Any, ...]
) -> None:
    marker = uuid.uuid4().hex
    body["summary"] = f"malformed {marker}"
    before = await agreement_rows(stack)

    response = await stack.actor("officer").post("/v1/proposals", json=body)

    assert loc in locs(response)
    assert await agreement_rows(stack) == before
    listed = await stack.actor("admin").get("/v1/agreements", params={"q": marker})
    assert listed.json()["items"] == []


async def test_invalid_json_body_is_refused_as_a_body_error(stack: Stack) -> None:
    before = await agreement_rows(stack)
    response = await stack.actor("officer").post(
        "/v1/proposals",
        content=b'{"title": "Truncated", "kind": "lic',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert error["type"] == "json_invalid"
    assert error["loc"][0] == "body"
    assert await agreement_rows(stack) == before


# --- who may do what ----------------------------------------------------------------


async def test_missing_token_is_unauthenticated(stack: Stack) -> None:
    before = await agreement_rows(stack)
    response = await stack.api.post("/v1/proposals", json=proposal())
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert (await stack.api.get("/v1/agreements")).status_code == 401
    assert await agreement_rows(stack) == before


@pytest.mark.parametrize("authorization", ["Bearer acc_not-a-real-token", "Basic b2xpdmlhOng="])
async def test_bad_token_is_unauthenticated(stack: Stack, authorization: str) -> None:
    response = await stack.api.get("/v1/me", headers={"Authorization": authorization})
    assert response.status_code == 401
    assert response.json()["error"] == "unauthenticated"


@pytest.mark.parametrize("actor", ["reviewer1", "counsel", "signatory1"])
async def test_only_officers_and_admins_submit_proposals(stack: Stack, actor: str) -> None:
    body = proposal()
    response = await stack.actor(actor).post("/v1/proposals", json=body)
    assert response.status_code == 403
    assert await agreement_rows(stack, title=body["title"]) == 0


@pytest.mark.parametrize("actor", ["security", "counsel", "admin", "officer"])
async def test_decision_by_someone_outside_the_group_is_forbidden(stack: Stack, actor: str) -> None:
    submitted = await submit(stack)
    task = await current_task(stack, submitted["id"])
    assert task["step_key"] == "technical"

    response = await decide(stack, actor, task["id"], "approve")

    assert response.status_code == 403
    unchanged = (await stack.actor("admin").get(f"/v1/tasks/{task['id']}")).json()
    assert (unchanged["status"], unchanged["decisions"]) == ("open", [])


async def test_officer_cannot_read_or_withdraw_another_officers_agreement(
    stack: Stack, other_officer: httpx.AsyncClient
) -> None:
    submitted = await submit(stack)
    path = f"/v1/agreements/{submitted['id']}"

    assert (await other_officer.get(path)).status_code == 403
    assert (await other_officer.get(f"{path}/events")).status_code == 403
    withdrawal = await other_officer.post(f"{path}/withdrawal", json={"reason": "not mine"})
    assert withdrawal.status_code == 403
    listing = await other_officer.get(
        "/v1/agreements", params={"officer_id": submitted["officer"]["id"]}
    )
    assert listing.status_code == 403
    assert (await agreement(stack, submitted["id"]))["status"] == "in_review"


async def test_officer_cannot_read_the_tasks_of_another_officers_agreement(
    stack: Stack, other_officer: httpx.AsyncClient
) -> None:
    submitted = await submit(stack)
    task = await current_task(stack, submitted["id"])

    assert (await other_officer.get(f"/v1/tasks/{task['id']}")).status_code == 403
    listed = await other_officer.get(
        "/v1/tasks", params={"agreement_id": submitted["id"], "status": "any"}
    )
    assert listed.status_code == 200
    assert listed.json()["items"] == []
    own = await stack.actor("officer").get(f"/v1/tasks/{task['id']}")
    assert own.status_code == 200


# --- decisions that do not fit the task ----------------------------------------------

BAD_DECISIONS = {
    "outcome of another task kind": ({"outcome": "clear"}, ("body", "outcome")),
    "empty outcome": ({"outcome": ""}, ("body", "outcome")),
    "reject without comment": ({"outcome": "reject"}, ("body", "comment")),
    "request changes with blank comment": (
        {"outcome": "request_changes", "comment": "  "},
        ("body", "comment"),
    ),
    "NUL in comment": ({"outcome": "approve", "comment": "a\u0000b"}, ("body", "comment")),
    # Nothing free-form (or unbounded) rides along with a decision.
    "free-form data": ({"outcome": "approve", "data": {"note": "a"}}, ("body", "data")),
    "NUL in a report's attachment": (
        {
            "outcome": "submit",
            "report": {
                "narrative": "On track.",
                "attachments": [{"name": "sales", "url": "https://files.test/a\u0000b"}],
            },
        },
        ("body", "report", "attachments", 0, "url"),
    ),
}


@pytest.mark.parametrize(("body", "loc"), BAD_DECISIONS.values(), ids=BAD_DECISIONS.keys())
async def test_unfit_decision_is_refused_and_the_task_stays_open(
    stack: Stack, body: dict[str, Any], loc: tuple[Any, ...]
) -> None:
    submitted = await submit(stack)
    task = await current_task(stack, submitted["id"])

    response = await stack.actor("reviewer1").post(f"/v1/tasks/{task['id']}/decision", json=body)

    assert loc in locs(response)
    unchanged = (await stack.actor("admin").get(f"/v1/tasks/{task['id']}")).json()
    assert (unchanged["status"], unchanged["decisions"]) == ("open", [])
    assert [e["type"] for e in await events(stack, submitted["id"])] == ["submitted"]


async def test_second_decision_on_a_closed_task_conflicts(stack: Stack) -> None:
    submitted = await submit(stack)
    task = await current_task(stack, submitted["id"])
    first = await decide(stack, "reviewer1", task["id"], "approve")
    assert first.status_code == 200, first.text

    again = await decide(stack, "reviewer2", task["id"], "reject", "too late")

    assert again.status_code == 409
    closed = (await stack.actor("admin").get(f"/v1/tasks/{task['id']}")).json()
    assert (closed["status"], closed["outcome"]) == ("done", "approve")
    assert (await agreement(stack, submitted["id"]))["status"] == "in_review"


# --- ids that name nothing -----------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/agreements/{id}"),
        ("GET", "/v1/agreements/{id}/events"),
        ("POST", "/v1/agreements/{id}/withdrawal"),
        ("GET", "/v1/tasks/{id}"),
        ("POST", "/v1/tasks/{id}/decision"),
    ],
)
async def test_unknown_id_is_not_found(stack: Stack, method: str, path: str) -> None:
    body = {"reason": "gone"} if path.endswith("withdrawal") else {"outcome": "approve"}
    body = body if method == "POST" else None
    response = await stack.actor("admin").request(method, path.format(id=uuid.uuid4()), json=body)
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


@pytest.mark.parametrize(
    ("method", "path", "loc"),
    [
        ("GET", "/v1/agreements/42", ("path", "agreement_id")),
        ("GET", "/v1/agreements/not-a-uuid/events", ("path", "agreement_id")),
        ("GET", "/v1/tasks/not-a-uuid", ("path", "task_id")),
        ("POST", "/v1/tasks/not-a-uuid/decision", ("path", "task_id")),
    ],
)
async def test_malformed_id_is_a_validation_error(
    stack: Stack, method: str, path: str, loc: tuple[str, str]
) -> None:
    body = {"outcome": "approve"} if method == "POST" else None
    response = await stack.actor("admin").request(method, path, json=body)
    assert loc in locs(response)


# --- Idempotency-Key -----------------------------------------------------------------


async def test_resubmission_with_the_same_key_replays_the_first_answer(stack: Stack) -> None:
    body = proposal()
    key = {"Idempotency-Key": f"replay-{uuid.uuid4()}"}
    officer = stack.actor("officer")

    first = await officer.post("/v1/proposals", json=body, headers=key)
    again = await officer.post("/v1/proposals", json=body, headers=key)

    assert (first.status_code, again.status_code) == (201, 201)
    assert "Idempotent-Replayed" not in first.headers
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["workflow_id"] == first.json()["workflow_id"]
    assert await agreement_rows(stack, title=body["title"]) == 1
    assert await submitted_events(stack, first.json()["id"]) == 1


async def test_same_key_with_a_different_proposal_conflicts(stack: Stack) -> None:
    key = {"Idempotency-Key": f"reuse-{uuid.uuid4()}"}
    original = await submit(stack, proposal(), **key)
    changed = proposal(estimated_value="1.00")

    response = await stack.actor("officer").post("/v1/proposals", json=changed, headers=key)

    assert response.status_code == 409
    assert "Idempotency-Key" in response.json()["detail"]
    assert await agreement_rows(stack, title=changed["title"]) == 0
    assert (await agreement(stack, original["id"]))["estimated_value"] == "250000.00"


async def test_concurrent_submissions_with_one_key_make_one_agreement(stack: Stack) -> None:
    body = proposal()
    key = {"Idempotency-Key": f"race-{uuid.uuid4()}"}
    officer = stack.actor("officer")

    responses = await asyncio.gather(
        officer.post("/v1/proposals", json=body, headers=key),
        officer.post("/v1/proposals", json=body, headers=key),
    )

    assert [r.status_code for r in responses] == [201, 201], [r.text for r in responses]
    [agreement_id] = {r.json()["id"] for r in responses}
    assert await agreement_rows(stack, title=body["title"]) == 1
    assert await submitted_events(stack, agreement_id) == 1
    assert len((await agreement(stack, agreement_id))["open_tasks"]) == 1


# --- found by the OpenAPI fuzzer (tests/fuzz) ------------------------------------------


@pytest.mark.parametrize(
    "content",
    [b'{"title": "caf\xe9"}', b"[" * 100_000],
    ids=["not UTF-8", "nested past the recursion limit"],
)
@pytest.mark.parametrize("path", ["/v1/proposals", "/v1/users", "/v1/ip-assets"])
async def test_body_that_cannot_be_decoded_is_invalid_json(
    stack: Stack, path: str, content: bytes
) -> None:
    """FastAPI answered these with an undocumented 400 of its own shape."""
    response = await stack.actor("admin").post(
        path, content=content, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert (error["type"], error["loc"]) == ("json_invalid", ["body"])


async def test_events_after_a_seq_beyond_the_column_is_a_validation_error(stack: Stack) -> None:
    submitted = await submit(stack)
    response = await stack.actor("admin").get(
        f"/v1/agreements/{submitted['id']}/events", params={"after_seq": 2**63}
    )
    assert ("query", "after_seq") in locs(response)


@pytest.mark.parametrize("path", ["/v1/agreements", "/v1/users", "/v1/ip-assets"])
async def test_nul_in_free_text_is_a_validation_error(stack: Stack, path: str) -> None:
    response = await stack.actor("admin").get(path, params={"q": "a\u0000b"})
    assert ("query", "q") in locs(response)


@pytest.mark.parametrize(
    ("field", "value", "loc"),
    [
        ("name", "Nu\u0000l", ("body", "name")),
        ("email", "nul\u0000@accord.test", ("body", "email")),
        ("groups", ["legal\u0000review"], ("body", "groups", 0)),
        ("groups", ["legal-review"] * 51, ("body", "groups")),
    ],
    ids=["NUL in name", "NUL in e-mail", "NUL in a group", "too many groups"],
)
async def test_unstorable_user_is_refused_naming_the_field(
    stack: Stack, field: str, value: Any, loc: tuple[Any, ...]
) -> None:
    body = {"email": f"nul.{uuid.uuid4().hex[:8]}@accord.test", "name": "Nul", "role": "reviewer"}
    response = await stack.actor("admin").post("/v1/users", json={**body, field: value})
    assert loc in locs(response)
