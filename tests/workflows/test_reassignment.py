"""Admins hand stalled tasks to someone else; the task follows its new assignee."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from tests.factories import current_task, decide, events, submit
from tests.stack import Stack
from workflows.core.commands import Reassignment


async def _user_id(stack: Stack, key: str) -> str:
    return str((await stack.actor(key).get("/v1/me")).json()["id"])


async def test_a_task_reassigned_to_a_person_is_theirs_to_decide(stack: Stack, mailbox) -> None:
    submitted = await submit(stack)
    task = await current_task(stack, submitted["id"])
    sam = await _user_id(stack, "security")

    response = await stack.actor("admin").post(
        f"/v1/tasks/{task['id']}/assignment",
        json={"user_id": sam, "reason": "Rita and Ravi are at a conference"},
    )
    assert response.status_code == 200, response.text
    moved = response.json()
    assert moved["assignee"] == {"type": "user", "id": sam, "name": "Sam Security"}
    assert moved["due_at"] == task["due_at"]

    inbox = await stack.actor("security").get(
        "/v1/tasks", params={"assignee": "me", "agreement_id": submitted["id"]}
    )
    assert [t["id"] for t in inbox.json()["items"]] == [task["id"]]
    assert (await decide(stack, "reviewer1", task["id"], "approve")).status_code == 403
    decided = await decide(stack, "security", task["id"], "approve")
    assert decided.status_code == 200, decided.text

    timeline = await events(stack, submitted["id"])
    assert [e["type"] for e in timeline] == [
        "submitted",
        "task_reassigned",
        "review_step_approved",
    ]
    assert timeline[1]["data"]["reason"] == "Rita and Ravi are at a conference"
    assert timeline[1]["actor"]["name"] == "Ada Admin"
    await mailbox.wait_for(
        lambda m: m["To"] == "sam.security@accord.test" and submitted["title"] in m["Subject"]
    )


async def test_a_task_reassigned_to_a_group_with_a_new_due_date(stack: Stack) -> None:
    submitted = await submit(stack)
    task = await current_task(stack, submitted["id"])
    due = (datetime.now(UTC) + timedelta(days=10)).replace(microsecond=0)

    response = await stack.actor("admin").post(
        f"/v1/tasks/{task['id']}/assignment",
        json={"group": "legal-review", "due_at": due.isoformat(), "reason": "legal leads"},
    )
    assert response.status_code == 200, response.text
    moved = response.json()
    assert moved["assignee"]["name"] == "Legal review"
    assert datetime.fromisoformat(moved["due_at"]) == due
    # Ravi is in the legal group, Rita is not.
    assert (await decide(stack, "reviewer1", task["id"], "approve")).status_code == 403
    assert (await decide(stack, "reviewer2", task["id"], "approve")).status_code == 200


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"group": "technical-review", "user_id": None}, None),
        ({"reason": "both"}, ("body",)),
        ({"group": "no-such-group", "reason": "x"}, ("body", "group")),
        ({"user_id": "00000000-0000-0000-0000-000000000000", "reason": "x"}, ("body", "user_id")),
        (
            {"group": "legal-review", "due_at": "2001-01-01T00:00:00Z", "reason": "x"},
            ("body", "due_at"),
        ),
        (
            {"group": "legal-review", "due_at": "2031-01-01T00:00:00", "reason": "x"},
            ("body", "due_at"),
        ),
        # Found by the OpenAPI fuzzer: the workflow's reminder arithmetic overflowed on
        # such a date, and every later command on the agreement got a 504, then a 503.
        (
            {"group": "legal-review", "due_at": "9999-12-31T23:59:59-14:00", "reason": "x"},
            ("body", "due_at"),
        ),
        (
            {"group": "legal-review", "due_at": "2999-01-01T00:00:00Z", "reason": "x"},
            ("body", "due_at"),
        ),
        ({"group": "legal\u0000review", "reason": "x"}, ("body", "group")),
    ],
    ids=[
        "no reason",
        "no assignee",
        "unknown group",
        "unknown user",
        "past due",
        "naive due",
        "due at the end of the calendar",
        "due in centuries",
        "NUL in group",
    ],
)
async def test_an_unfit_reassignment_is_refused_naming_the_field(
    stack: Stack, body: dict, loc: tuple | None
) -> None:
    submitted = await submit(stack)
    task = await current_task(stack, submitted["id"])
    response = await stack.actor("admin").post(f"/v1/tasks/{task['id']}/assignment", json=body)
    assert response.status_code == 422, response.text
    locs = [tuple(e["loc"]) for e in response.json()["detail"]]
    assert (loc or ("body", "reason")) in locs
    unchanged = await current_task(stack, submitted["id"])
    assert unchanged["assignee"] == task["assignee"]


async def test_only_admins_reassign_and_only_open_tasks(stack: Stack) -> None:
    submitted = await submit(stack)
    task = await current_task(stack, submitted["id"])
    body = {"group": "legal-review", "reason": "hand over"}

    for actor in ("reviewer1", "officer"):
        refused = await stack.actor(actor).post(f"/v1/tasks/{task['id']}/assignment", json=body)
        assert refused.status_code == 403
    assert (await decide(stack, "reviewer1", task["id"], "approve")).status_code == 200
    closed = await stack.actor("admin").post(f"/v1/tasks/{task['id']}/assignment", json=body)
    assert closed.status_code == 409
    unknown = await stack.actor("admin").post(
        "/v1/tasks/00000000-0000-0000-0000-000000000000/assignment", json=body
    )
    assert unknown.status_code == 404


async def test_the_workflow_itself_refuses_a_due_date_past_a_year(stack: Stack) -> None:
    """A client that bypasses the API cannot wedge the agreement with a far due date:
    the update is rejected before it is applied, and the agreement goes on."""
    submitted = await submit(stack)
    task = await current_task(stack, submitted["id"])
    handle = stack.client.get_workflow_handle(submitted["workflow_id"])
    command = Reassignment(
        task_id=task["id"],
        actor_id=await _user_id(stack, "admin"),
        group_id=task["assignee"]["id"],
        due_at=datetime(9999, 12, 31, tzinfo=UTC),
        reason="forever",
    )
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update("reassign", command)
    assert isinstance(refused.value.cause, ApplicationError)
    assert refused.value.cause.type == "InvalidData"
    assert (await decide(stack, "reviewer1", task["id"], "approve")).status_code == 200
