"""Reading the service: agreement lists and timelines, inboxes, people, health."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from services.store import User
from tests.factories import current_task, decide, pages, proposal, submit
from tests.stack import Stack


def unique() -> str:
    """A token no other test's data contains; filter with `q` to see only this test's rows."""
    return uuid.uuid4().hex[:12]


async def listed(client: httpx.AsyncClient, **params: Any) -> list[str]:
    response = await client.get("/v1/agreements", params=params)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


async def inbox_page(stack: Stack, actor: str, agreement_id: str, **params: Any) -> dict:
    response = await stack.actor(actor).get(
        "/v1/tasks", params={"assignee": "me", "agreement_id": agreement_id, **params}
    )
    assert response.status_code == 200, response.text
    return response.json()


async def inbox(stack: Stack, actor: str, agreement_id: str, **params: Any) -> list[dict]:
    return (await inbox_page(stack, actor, agreement_id, **params))["items"]


async def user_id(stack: Stack, actor: str) -> str:
    response = await stack.actor(actor).get("/v1/me")
    assert response.status_code == 200, response.text
    return response.json()["id"]


async def users_with_email(stack: Stack, email: str) -> int:
    async with stack.sessions() as session:
        stmt = select(func.count()).select_from(User).where(User.email == email.lower())
        return int(await session.scalar(stmt) or 0)


def new_user_body(role: str = "program_officer", **overrides: Any) -> dict[str, Any]:
    return {
        "email": f"pat.{unique()}@accord.test",
        "name": "Pat Person",
        "role": role,
        **overrides,
    }


@dataclass
class Person:
    id: str
    client: httpx.AsyncClient


@pytest.fixture
async def other_officer(stack: Stack) -> AsyncIterator[Person]:
    """A second program officer, created by the admin."""
    created = await stack.actor("admin").post("/v1/users", json=new_user_body())
    assert created.status_code == 201, created.text
    async with stack.client_for(created.json()["token"]) as client:
        yield Person(created.json()["id"], client)


# --- agreement lists ---------------------------------------------------------------


async def test_list_filters_by_status(stack: Stack) -> None:
    token = unique()
    open_one = await submit(stack, proposal(title=f"Open {token}"))
    rejected = await submit(stack, proposal(title=f"Rejected {token}"))
    task = await current_task(stack, rejected["id"])
    assert (await decide(stack, "reviewer1", task["id"], "reject", "no case")).status_code == 200

    admin = stack.actor("admin")
    assert await listed(admin, q=token, status="rejected") == [rejected["id"]]
    assert await listed(admin, q=token, status="in_review") == [open_one["id"]]
    assert await listed(admin, q=token, status="withdrawn") == []


async def test_list_filters_by_kind(stack: Stack) -> None:
    token = unique()
    await submit(stack, proposal(title=f"License {token}", kind="license"))
    option = await submit(stack, proposal(title=f"Option {token}", kind="option"))

    assert await listed(stack.actor("admin"), q=token, kind="option") == [option["id"]]


async def test_list_filters_by_any_partys_country(stack: Stack) -> None:
    token = unique()
    european = await submit(stack, proposal(title=f"US-DE {token}"))
    japanese = await submit(
        stack,
        proposal(
            title=f"US-JP {token}",
            parties=[
                {"name": "State University", "country": "US", "role": "licensor"},
                {"name": "Kyoto Photonics", "country": "JP", "role": "licensee"},
            ],
        ),
    )

    admin = stack.actor("admin")
    assert await listed(admin, q=token, country="jp") == [japanese["id"]]
    assert await listed(admin, q=token, country="DE") == [european["id"]]
    assert set(await listed(admin, q=token, country="US")) == {european["id"], japanese["id"]}


async def test_list_filters_by_officer(stack: Stack, other_officer: Person) -> None:
    token = unique()
    mine = await submit(stack, proposal(title=f"Olivia's {token}"))
    theirs = await other_officer.client.post("/v1/proposals", json=proposal(title=f"Otto {token}"))
    assert theirs.status_code == 201, theirs.text

    admin = stack.actor("admin")
    assert await listed(admin, q=token, officer_id=other_officer.id) == [theirs.json()["id"]]
    assert await listed(admin, q=token, officer_id=mine["officer"]["id"]) == [mine["id"]]


async def test_free_text_matches_title_or_summary_ignoring_case(stack: Stack) -> None:
    token = unique()
    in_title = await submit(stack, proposal(title=f"Graphene {token.upper()}"))
    in_summary = await submit(stack, proposal(summary=f"Covers batch {token} of the anodes."))

    admin = stack.actor("admin")
    expected = {in_title["id"], in_summary["id"]}
    assert set(await listed(admin, q=token)) == expected
    assert set(await listed(admin, q=token.upper())) == expected
    assert await listed(admin, q=f"{token}-nowhere") == []


async def test_pages_follow_next_cursor_newest_first_until_exhausted(stack: Stack) -> None:
    token = unique()
    created = [(await submit(stack, proposal(title=f"Page {i} {token}")))["id"] for i in range(5)]

    listed = await pages(stack.actor("admin"), "/v1/agreements", q=token, limit=2)
    assert [len(page["items"]) for page in listed] == [2, 2, 1]
    assert [item["id"] for page in listed for item in page["items"]] == created[::-1]


@pytest.mark.parametrize("path", ["/v1/agreements", "/v1/tasks"])
@pytest.mark.parametrize("cursor", ["garbage", "not-a-cursor!", "W10"])
async def test_garbage_cursor_is_a_validation_error(stack: Stack, path: str, cursor: str) -> None:
    response = await stack.actor("admin").get(path, params={"cursor": cursor})
    assert response.status_code == 422, response.text
    assert [e["loc"] for e in response.json()["detail"]] == [["query", "cursor"]]


@pytest.mark.parametrize("path", ["/v1/agreements", "/v1/tasks"])
async def test_cursor_with_a_bad_timestamp_is_a_validation_error(stack: Stack, path: str) -> None:
    forged = base64.urlsafe_b64encode(json.dumps(["yesterday", "x"]).encode()).decode()
    response = await stack.actor("admin").get(path, params={"cursor": forged})
    assert response.status_code == 422, response.text


# Found by the OpenAPI fuzzer: these decoded, then failed in the query with a 500.
@pytest.mark.parametrize("path", ["/v1/agreements", "/v1/tasks"])
@pytest.mark.parametrize(
    "values",
    [
        ["2024-01-01T00:00:00", "x"],
        ["0001-01-01T00:00:00+14:00", "x"],
        ["9999-12-31T23:59:59-14:00", "x"],
        ["2024-01-01T00:00:00+00:00", "x\u0000"],
    ],
    ids=["no offset", "before year 1 in UTC", "after year 9999 in UTC", "NUL in the id"],
)
async def test_forged_keyset_cursor_is_a_validation_error(
    stack: Stack, path: str, values: list[str]
) -> None:
    forged = base64.urlsafe_b64encode(json.dumps(values).encode()).decode()
    response = await stack.actor("admin").get(path, params={"cursor": forged})
    assert response.status_code == 422, response.text
    assert [e["loc"] for e in response.json()["detail"]] == [["query", "cursor"]]


async def test_program_officer_lists_only_their_own_agreements(
    stack: Stack, other_officer: Person
) -> None:
    token = unique()
    mine = await submit(stack, proposal(title=f"Olivia's {token}"))
    theirs = await other_officer.client.post("/v1/proposals", json=proposal(title=f"Otto {token}"))
    assert theirs.status_code == 201, theirs.text

    assert await listed(stack.actor("officer"), q=token) == [mine["id"]]
    assert await listed(other_officer.client, q=token) == [theirs.json()["id"]]
    assert set(await listed(stack.actor("reviewer1"), q=token)) == {
        mine["id"],
        theirs.json()["id"],
    }
    everything = await other_officer.client.get("/v1/agreements", params={"limit": 200})
    owners = {item["officer"]["id"] for item in everything.json()["items"]}
    assert owners == {other_officer.id}


# --- timeline ------------------------------------------------------------------------


async def test_events_are_numbered_from_one_with_actor_and_statuses(stack: Stack) -> None:
    submitted = await submit(stack)
    technical = await current_task(stack, submitted["id"])
    assert (await decide(stack, "reviewer1", technical["id"], "approve")).status_code == 200
    legal = await current_task(stack, submitted["id"])
    returned = await decide(stack, "reviewer2", legal["id"], "request_changes", "cap royalty")
    assert returned.status_code == 200, returned.text

    path = f"/v1/agreements/{submitted['id']}/events"
    timeline = (await stack.actor("officer").get(path)).json()

    assert [e["seq"] for e in timeline] == [1, 2, 3]
    rows = [(e["type"], e["actor"]["name"], e["from_status"], e["to_status"]) for e in timeline]
    assert rows == [
        ("submitted", "Olivia Officer", None, "in_review"),
        ("review_step_approved", "Rita Reviewer", "in_review", "in_review"),
        ("changes_requested", "Ravi Reviewer", "in_review", "changes_requested"),
    ]
    assert timeline[2]["data"]["comment"] == "cap royalty"
    later = (await stack.actor("officer").get(path, params={"after_seq": 1})).json()
    assert [e["seq"] for e in later] == [2, 3]


# --- inboxes -------------------------------------------------------------------------


async def test_group_task_is_in_the_inbox_of_members_only(stack: Stack) -> None:
    submitted = await submit(stack)
    task = await current_task(stack, submitted["id"])

    for member in ("reviewer1", "reviewer2"):
        assert [t["id"] for t in await inbox(stack, member, submitted["id"])] == [task["id"]]
    for outsider in ("security", "counsel", "officer", "admin"):
        assert await inbox(stack, outsider, submitted["id"]) == []


async def test_inbox_with_status_any_includes_closed_tasks(stack: Stack) -> None:
    submitted = await submit(stack)
    technical = await current_task(stack, submitted["id"])
    assert (await decide(stack, "reviewer2", technical["id"], "approve")).status_code == 200
    legal = await current_task(stack, submitted["id"])

    assert [t["id"] for t in await inbox(stack, "reviewer2", submitted["id"])] == [legal["id"]]
    everything = await inbox(stack, "reviewer2", submitted["id"], status="any")
    assert [(t["id"], t["status"]) for t in everything] == [
        (technical["id"], "done"),
        (legal["id"], "open"),
    ]
    assert await inbox(stack, "reviewer1", submitted["id"]) == []
    done = await inbox(stack, "reviewer1", submitted["id"], status="done")
    assert [t["id"] for t in done] == [technical["id"]]


async def test_inbox_pages_by_due_date(stack: Stack) -> None:
    submitted = await submit(stack)
    technical = await current_task(stack, submitted["id"])
    assert (await decide(stack, "reviewer2", technical["id"], "approve")).status_code == 200
    legal = await current_task(stack, submitted["id"])

    first = await inbox_page(stack, "reviewer2", submitted["id"], status="any", limit=1)
    second = await inbox_page(
        stack, "reviewer2", submitted["id"], status="any", limit=1, cursor=first["next_cursor"]
    )

    assert [t["id"] for t in first["items"]] == [technical["id"]]
    assert [t["id"] for t in second["items"]] == [legal["id"]]
    assert second["next_cursor"] is None


async def test_only_admins_read_another_persons_inbox(stack: Stack) -> None:
    submitted = await submit(stack)
    task = await current_task(stack, submitted["id"])
    reviewer2 = await user_id(stack, "reviewer2")
    params = {"assignee": reviewer2, "agreement_id": submitted["id"]}

    denied = await stack.actor("reviewer1").get("/v1/tasks", params=params)
    assert denied.status_code == 403
    allowed = await stack.actor("admin").get("/v1/tasks", params=params)
    assert allowed.status_code == 200, allowed.text
    assert [t["id"] for t in allowed.json()["items"]] == [task["id"]]
    own = await stack.actor("reviewer2").get("/v1/tasks", params=params)
    assert [t["id"] for t in own.json()["items"]] == [task["id"]]


# --- people --------------------------------------------------------------------------


async def test_me_shows_role_and_groups(stack: Stack) -> None:
    me = (await stack.actor("reviewer1").get("/v1/me")).json()
    assert (me["email"], me["name"], me["role"]) == (
        "rita.reviewer@accord.test",
        "Rita Reviewer",
        "reviewer",
    )
    assert [g["slug"] for g in me["groups"]] == ["finance-review", "technical-review"]
    officer = (await stack.actor("officer").get("/v1/me")).json()
    assert (officer["role"], officer["groups"]) == ("program_officer", [])


async def test_reviewer_is_notified_of_a_task_assigned_to_their_group(stack: Stack) -> None:
    submitted = await submit(stack)
    task = await current_task(stack, submitted["id"])

    mine = (await stack.actor("reviewer1").get("/v1/notifications")).json()
    about = [n for n in mine if n["agreement_id"] == submitted["id"]]
    assert [(n["kind"], n["task_id"]) for n in about] == [("task_assigned", task["id"])]
    assert submitted["title"] in about[0]["subject"]
    others = (await stack.actor("security").get("/v1/notifications")).json()
    assert [n for n in others if n["agreement_id"] == submitted["id"]] == []


async def test_admin_creates_a_user_whose_token_works_at_once(stack: Stack) -> None:
    body = new_user_body("reviewer", email=f"Lee.{unique()}@Accord.test", groups=["legal-review"])
    created = await stack.actor("admin").post("/v1/users", json=body)
    assert created.status_code == 201, created.text
    token = created.json()["token"]

    me = await stack.api.get("/v1/me", headers={"Authorization": f"Bearer {token}"})

    assert me.status_code == 200, me.text
    assert me.json()["id"] == created.json()["id"]
    assert me.json()["email"] == body["email"].lower()
    assert me.json()["role"] == "reviewer"
    assert [g["slug"] for g in me.json()["groups"]] == ["legal-review"]


async def test_duplicate_email_conflicts(stack: Stack) -> None:
    body = new_user_body()
    assert (await stack.actor("admin").post("/v1/users", json=body)).status_code == 201

    again = await stack.actor("admin").post(
        "/v1/users", json={**body, "email": body["email"].upper(), "role": "admin"}
    )

    assert again.status_code == 409
    assert await users_with_email(stack, body["email"]) == 1


@pytest.mark.parametrize("actor", ["officer", "reviewer1", "counsel"])
async def test_only_admins_create_users(stack: Stack, actor: str) -> None:
    body = new_user_body("admin")
    response = await stack.actor(actor).post("/v1/users", json=body)
    assert response.status_code == 403
    assert await users_with_email(stack, body["email"]) == 0


async def test_unknown_group_is_a_validation_error(stack: Stack) -> None:
    body = new_user_body("reviewer", groups=["legal-review", "wizards"])
    response = await stack.actor("admin").post("/v1/users", json=body)
    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "groups"]
    assert "wizards" in error["msg"]
    assert await users_with_email(stack, body["email"]) == 0


# --- health --------------------------------------------------------------------------


async def test_liveness(stack: Stack) -> None:
    response = await stack.api.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


async def test_readiness_checks_database_and_temporal(stack: Stack) -> None:
    response = await stack.api.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "status": "ready",
        "checks": {"database": "ok", "temporal": "ok"},
    }


async def test_free_text_treats_like_wildcards_literally(stack: Stack) -> None:
    token = unique()
    literal = await submit(stack, proposal(title=f"Royalty 50% share {token}"))
    await submit(stack, proposal(title=f"Royalty 50 share {token}"))

    found = await stack.actor("admin").get("/v1/agreements", params={"q": f"50% share {token}"})
    assert [a["id"] for a in found.json()["items"]] == [literal["id"]]
    wildcard = await stack.actor("admin").get("/v1/agreements", params={"q": f"%{token}_"})
    assert wildcard.json()["items"] == []


async def test_the_openapi_document_and_docs_page_are_served(stack: Stack) -> None:
    document = await stack.api.get("/openapi.json")
    assert document.status_code == 200
    paths = document.json()["paths"]
    assert "/v1/tasks/{task_id}/decision" in paths
    assert "bearer" in str(document.json()["components"]["securitySchemes"]).lower()
    docs = await stack.api.get("/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()


async def test_admins_find_people_to_assign_work_to(stack: Stack) -> None:
    reviewers = await stack.actor("admin").get("/v1/users", params={"role": "reviewer"})
    assert reviewers.status_code == 200, reviewers.text
    names = [u["name"] for u in reviewers.json()]
    assert {"Rita Reviewer", "Ravi Reviewer", "Sam Security"} <= set(names)
    assert names == sorted(names)
    assert all(u["role"] == "reviewer" for u in reviewers.json())
    rita = await stack.actor("admin").get("/v1/users", params={"q": "RITA.rev"})
    assert [u["email"] for u in rita.json()] == ["rita.reviewer@accord.test"]
    assert {g["slug"] for g in rita.json()[0]["groups"]} == {"technical-review", "finance-review"}
    assert (await stack.actor("reviewer1").get("/v1/users")).status_code == 403


async def test_everyone_sees_the_groups_with_their_lead_and_members(stack: Stack) -> None:
    response = await stack.actor("reviewer1").get("/v1/groups")
    assert response.status_code == 200, response.text
    groups = {g["slug"]: g for g in response.json()}
    technical = groups["technical-review"]
    assert technical["lead"]["name"] == "Rita Reviewer"
    assert {m["name"] for m in technical["members"]} >= {"Rita Reviewer", "Ravi Reviewer"}
    assert groups["finance-review"]["lead"] is None
