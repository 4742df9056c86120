"""Each branch of the review stage, driven through the HTTP API."""

from __future__ import annotations

from tests.factories import (
    agreement,
    approve_step,
    current_task,
    decide,
    events,
    proposal,
    submit,
)
from tests.factories import agreement as current_agreement
from tests.stack import Stack


def _event_types(timeline: list[dict]) -> list[str]:
    return [e["type"] for e in timeline]


def _assert_gapless(timeline: list[dict]) -> None:
    assert [e["seq"] for e in timeline] == list(range(1, len(timeline) + 1))


async def test_approved_through_every_step_reaches_ip_clearance(stack: Stack) -> None:
    submitted = await submit(stack)
    assert submitted["status"] == "in_review"
    assert submitted["policy_version"]
    assert [t["step_key"] for t in submitted["open_tasks"]] == ["technical"]

    await approve_step(stack, submitted["id"], "technical", "reviewer1")
    final = await approve_step(stack, submitted["id"], "legal", "reviewer2")

    assert final["status"] == "ip_clearance"
    assert final["stage"] == "ip_clearance"
    # Review done: the automatic IP checks ran and counsel's task is the only one open.
    assert [t["kind"] for t in final["open_tasks"]] == ["ip_clearance"]
    timeline = await events(stack, submitted["id"])
    _assert_gapless(timeline)
    assert _event_types(timeline) == [
        "submitted",
        "review_step_approved",
        "review_completed",
        "ip_checks_completed",
    ]
    completed = timeline[-2]
    assert completed["from_status"] == "in_review"
    assert completed["to_status"] == "ip_clearance"
    assert completed["actor"]["name"] == "Ravi Reviewer"


async def test_request_changes_then_revision_restarts_review_with_approvals_reset(
    stack: Stack,
) -> None:
    submitted = await submit(stack, proposal(estimated_value="100000"))
    agreement_id = submitted["id"]
    await approve_step(stack, agreement_id, "technical", "reviewer2")
    legal = await current_task(stack, agreement_id)

    response = await decide(stack, "reviewer2", legal["id"], "request_changes", "cap the royalty")
    assert response.status_code == 200, response.text
    returned = response.json()
    assert returned["status"] == "changes_requested"
    assert returned["open_tasks"] == []

    # A reviewer cannot revise; the officer can.
    denied = await stack.actor("reviewer1").post(
        f"/v1/agreements/{agreement_id}/revisions", json={"estimated_value": "90000"}
    )
    assert denied.status_code == 403
    revised = await stack.actor("officer").post(
        f"/v1/agreements/{agreement_id}/revisions",
        json={
            "terms": {**submitted["terms"], "royalty_rate": "2.0"},
            "comment": "royalty capped at 2%",
        },
    )
    assert revised.status_code == 200, revised.text
    body = revised.json()
    assert body["status"] == "in_review"
    assert body["revision"] == 1
    assert body["terms"]["royalty_rate"] == "2.0"
    # Approvals reset: the review starts again at the first step, in a new round.
    assert [(t["step_key"], t["round"]) for t in body["open_tasks"]] == [("technical", 1)]

    await approve_step(stack, agreement_id, "technical", "reviewer1")
    final = await approve_step(stack, agreement_id, "legal", "reviewer2")
    assert final["status"] == "ip_clearance"
    timeline = await events(stack, agreement_id)
    _assert_gapless(timeline)
    assert _event_types(timeline) == [
        "submitted",
        "review_step_approved",
        "changes_requested",
        "revised",
        "review_step_approved",
        "review_completed",
        "ip_checks_completed",
    ]
    assert timeline[3]["data"]["changed"] == ["terms"]


async def test_revision_is_refused_unless_changes_were_requested(stack: Stack) -> None:
    submitted = await submit(stack)
    response = await stack.actor("officer").post(
        f"/v1/agreements/{submitted['id']}/revisions", json={"title": "Renamed"}
    )
    assert response.status_code == 409
    assert "changes_requested" in response.json()["detail"]


async def test_a_revision_that_leaves_a_signatory_without_party_is_refused(stack: Stack) -> None:
    """The revised proposal must hold together as a whole; the workflow checks it before
    accepting the update, so a bad revision is a 422 and nothing changes."""
    submitted = await submit(stack)
    task = await current_task(stack, submitted["id"])
    response = await decide(stack, "reviewer1", task["id"], "request_changes", "other partner")
    assert response.status_code == 200, response.text
    url = f"/v1/agreements/{submitted['id']}/revisions"
    parties = [
        {"name": "State University", "country": "US", "role": "licensor"},
        {"name": "Kyoto Photonics KK", "country": "JP", "role": "licensee"},
    ]
    refused = await stack.actor("officer").post(url, json={"parties": parties})
    assert refused.status_code == 422, refused.text
    assert "Helio GmbH" in refused.text
    assert (await current_agreement(stack, submitted["id"]))["status"] == "changes_requested"

    signatories = [
        {"email": "sid.signatory@accord.test", "on_behalf_of": "State University"},
        {"email": "sofia.signatory@accord.test", "on_behalf_of": "Kyoto Photonics KK"},
    ]
    accepted = await stack.actor("officer").post(
        url, json={"parties": parties, "signatories": signatories}
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "in_review"
    assert accepted.json()["signatories"][1]["on_behalf_of"] == "Kyoto Photonics KK"


async def test_reject_ends_the_agreement(stack: Stack, mailbox) -> None:
    submitted = await submit(stack)
    task = await current_task(stack, submitted["id"])

    response = await decide(stack, "reviewer1", task["id"], "reject", "no commercial case")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "rejected"
    assert response.json()["stage"] == "closed"

    # The closed task and the ended workflow take no more decisions.
    again = await decide(stack, "reviewer2", task["id"], "approve")
    assert again.status_code == 409
    withdraw = await stack.actor("officer").post(
        f"/v1/agreements/{submitted['id']}/withdrawal", json={"reason": "too late"}
    )
    assert withdraw.status_code == 409
    handle = stack.client.get_workflow_handle(submitted["workflow_id"])
    assert await handle.result() == "rejected"
    await mailbox.wait_for(
        lambda m: (
            m["To"] == "olivia.officer@accord.test"
            and submitted["title"] in m["Subject"]
            and "rejected" in m["Subject"]
        )
    )


async def test_officer_withdraws_during_review(stack: Stack) -> None:
    submitted = await submit(stack)
    task = await current_task(stack, submitted["id"])

    denied = await stack.actor("reviewer1").post(
        f"/v1/agreements/{submitted['id']}/withdrawal", json={"reason": "not mine"}
    )
    assert denied.status_code == 403
    response = await stack.actor("officer").post(
        f"/v1/agreements/{submitted['id']}/withdrawal", json={"reason": "partner pulled out"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "withdrawn"

    cancelled = await stack.actor("admin").get(f"/v1/tasks/{task['id']}")
    assert cancelled.json()["status"] == "cancelled"
    timeline = await events(stack, submitted["id"])
    assert timeline[-1]["type"] == "withdrawn"
    assert timeline[-1]["data"] == {"reason": "partner pulled out"}


async def test_withdraw_while_waiting_in_ip_clearance(stack: Stack) -> None:
    submitted = await submit(stack)
    await approve_step(stack, submitted["id"], "technical", "reviewer1")
    await approve_step(stack, submitted["id"], "legal", "reviewer2")
    response = await stack.actor("admin").post(
        f"/v1/agreements/{submitted['id']}/withdrawal", json={"reason": "admin withdrawal"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "withdrawn"


async def test_group_step_needs_two_distinct_approvals(stack: Stack) -> None:
    submitted = await submit(stack, proposal(kind="defense_sharing", title="Radar exchange"))
    agreement_id = submitted["id"]
    task = await current_task(stack, agreement_id)
    assert task["step_key"] == "technical_dual"
    assert task["approvals_required"] == 2

    first = await decide(stack, "reviewer1", task["id"], "approve")
    assert first.status_code == 200, first.text
    still_open = await current_task(stack, agreement_id)
    assert still_open["id"] == task["id"]
    assert still_open["approvals"] == 1

    # The same reviewer cannot count twice, and their inbox no longer shows the task.
    twice = await decide(stack, "reviewer1", task["id"], "approve")
    assert twice.status_code == 409
    inbox = await stack.actor("reviewer1").get(
        "/v1/tasks", params={"assignee": "me", "agreement_id": agreement_id}
    )
    assert inbox.json()["items"] == []
    other_inbox = await stack.actor("reviewer2").get(
        "/v1/tasks", params={"assignee": "me", "agreement_id": agreement_id}
    )
    assert [t["id"] for t in other_inbox.json()["items"]] == [task["id"]]

    second = await decide(stack, "reviewer2", task["id"], "approve")
    assert second.status_code == 200, second.text
    assert [t["step_key"] for t in second.json()["open_tasks"]] == ["legal"]

    await approve_step(stack, agreement_id, "legal", "reviewer2")
    final = await approve_step(stack, agreement_id, "security", "security")
    assert final["status"] == "ip_clearance"
    decided = await stack.actor("admin").get(f"/v1/tasks/{task['id']}")
    assert {d["actor_name"] for d in decided.json()["decisions"]} == {
        "Rita Reviewer",
        "Ravi Reviewer",
    }
    timeline = await events(stack, agreement_id)
    _assert_gapless(timeline)
    assert _event_types(timeline)[:3] == ["submitted", "review_vote", "review_step_approved"]


async def test_policy_adds_security_for_watch_list_and_finance_for_high_value(
    stack: Stack,
) -> None:
    body = proposal(
        estimated_value="2500000",
        parties=[
            {"name": "State University", "country": "US", "role": "licensor"},
            {"name": "Volga Optics", "country": "RU", "role": "licensee"},
        ],
    )
    submitted = await submit(stack, body)
    agreement_id = submitted["id"]
    await approve_step(stack, agreement_id, "technical", "reviewer1")
    await approve_step(stack, agreement_id, "legal", "reviewer2")
    await approve_step(stack, agreement_id, "security", "security")
    final = await approve_step(stack, agreement_id, "finance", "admin")
    assert final["status"] == "ip_clearance"
    first = (await events(stack, agreement_id))[0]
    assert [s["key"] for s in first["data"]["steps"]] == [
        "technical",
        "legal",
        "security",
        "finance",
    ]


async def test_detail_shows_open_tasks_with_assignee_and_due_date(stack: Stack) -> None:
    submitted = await submit(stack)
    detail = await agreement(stack, submitted["id"])
    task = detail["open_tasks"][0]
    assert task["assignee"] == {
        "type": "group",
        "id": task["assignee"]["id"],
        "name": "Technical review board",
    }
    assert task["due_at"] > detail["created_at"]
    assert task["overdue"] is False
    assert detail["days_in_stage"] >= 0


async def test_detail_shows_the_review_steps_of_the_current_round(stack: Stack) -> None:
    submitted = await submit(stack)
    assert [(s["key"], s["status"]) for s in submitted["review_steps"]] == [
        ("technical", "in_progress"),
        ("legal", "not_reached"),
    ]
    assert submitted["review_steps"][0]["task_id"] == submitted["open_tasks"][0]["id"]
    assert submitted["review_steps"][1] | {"status": None} == {
        "key": "legal",
        "name": "Legal review",
        "group": "legal-review",
        "approvals_required": 1,
        "status": None,
        "task_id": None,
    }

    await approve_step(stack, submitted["id"], "technical", "reviewer1")
    legal = await current_task(stack, submitted["id"])
    returned = await decide(stack, "reviewer2", legal["id"], "request_changes", "fix terms")
    assert [(s["key"], s["status"]) for s in returned.json()["review_steps"]] == [
        ("technical", "approved"),
        ("legal", "changes_requested"),
    ]

    revised = await stack.actor("officer").post(
        f"/v1/agreements/{submitted['id']}/revisions", json={"estimated_value": "1500000"}
    )
    # The new round follows the re-planned policy: the higher value adds finance.
    assert [(s["key"], s["status"]) for s in revised.json()["review_steps"]] == [
        ("technical", "in_progress"),
        ("legal", "not_reached"),
        ("finance", "not_reached"),
    ]
