"""Signature: the envelope, signing in order or in parallel, decline, expiry, activation."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from services.config import Settings
from services.store import Signature
from tests.factories import (
    agreement,
    clear,
    events,
    eventually,
    parallel_signatories,
    pdf_text,
    proposal,
    register_asset,
    review,
    sign,
    sign_all,
    task,
    to_active,
    to_clearance,
)
from tests.stack import Mailbox, Stack, running_stack
from workflows.term.obligations import add_months

USER_AGENT = "AccordSignatureTest/1.0 (pytest)"


def _to(email: str, title: str, subject: str) -> Any:
    return lambda m: m["To"] == email and title in m["Subject"] and subject in m["Subject"]


def _types(timeline: list[dict[str, Any]]) -> list[str]:
    return [e["type"] for e in timeline]


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def _in_signature(stack: Stack, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """Submit, review and clear: the agreement as the clearance left it, in signature."""
    clearance = await to_clearance(stack, body)
    response = await clear(stack, clearance)
    assert response.status_code == 200, response.text
    cleared = response.json()
    assert cleared["status"] == "in_signature", cleared
    return cleared


async def _inbox(stack: Stack, actor: str, agreement_id: str) -> list[dict[str, Any]]:
    response = await stack.actor(actor).get(
        "/v1/tasks", params={"assignee": "me", "agreement_id": agreement_id}
    )
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_signatories_sign_in_order_and_the_signed_copy_takes_effect(
    stack: Stack, mailbox: Mailbox
) -> None:
    cleared = await _in_signature(stack)
    agreement_id, title = cleared["id"], cleared["title"]
    draft = cleared["document"]["sha256"]
    assert cleared["effective_at"] is None and cleared["ends_at"] is None

    # Only the first signatory has a task; the second has nothing yet.
    [first] = cleared["open_tasks"]
    assert first["kind"] == "signature"
    assert first["assignee"]["name"] == "Sid Signatory"
    assert first["step_name"] == "Signature for State University"
    assert [t["id"] for t in await _inbox(stack, "signatory1", agreement_id)] == [first["id"]]
    assert await _inbox(stack, "signatory2", agreement_id) == []
    detail = (await stack.actor("signatory1").get(f"/v1/tasks/{first['id']}")).json()
    assert detail["document"] == {
        "sha256": draft,
        "url": f"/v1/agreements/{agreement_id}/document",
    }
    await mailbox.wait_for(_to("sid.signatory@accord.test", title, "Please sign"))
    # Sofia may not sign Sid's task.
    intruder = await stack.actor("signatory2").post(
        f"/v1/tasks/{first['id']}/decision", json={"outcome": "sign", "document_sha256": draft}
    )
    assert intruder.status_code == 403, intruder.text

    response = await sign(stack, first, **{"User-Agent": USER_AGENT})
    assert response.status_code == 200, response.text
    after_first = response.json()
    assert after_first["status"] == "in_signature"
    [second] = after_first["open_tasks"]
    assert second["assignee"]["name"] == "Sofia Signatory"
    assert second["step_name"] == "Signature for Helio GmbH"
    assert (await task(stack, first["id"]))["status"] == "done"
    assert [t["id"] for t in await _inbox(stack, "signatory2", agreement_id)] == [second["id"]]
    signed_event = (await events(stack, agreement_id))[-1]
    assert signed_event["type"] == "signed"
    assert signed_event["data"]["on_behalf_of"] == "State University"
    assert signed_event["actor"]["name"] == "Sid Signatory"
    await mailbox.wait_for(_to("sofia.signatory@accord.test", title, "Please sign"))

    response = await sign(stack, second, **{"User-Agent": USER_AGENT})
    assert response.status_code == 200, response.text
    active = response.json()
    assert active["status"] == "active" and active["stage"] == "active"
    assert active["open_tasks"] == []
    effective_at = _at(active["effective_at"])
    assert _at(active["ends_at"]) == add_months(effective_at, 60)
    signed = active["document"]["sha256"]
    assert signed != draft

    timeline = await events(stack, agreement_id)
    assert _types(timeline)[-3:] == ["signed", "signed", "activated"]
    assert timeline[-1]["data"]["document_sha256"] == signed
    assert [e["seq"] for e in timeline] == list(range(1, len(timeline) + 1))

    document = await stack.actor("officer").get(f"/v1/agreements/{agreement_id}/document")
    assert document.status_code == 200, document.text
    assert document.headers["content-type"] == "application/pdf"
    assert document.headers["x-document-sha256"] == signed
    assert hashlib.sha256(document.content).hexdigest() == signed
    text = pdf_text(document.content)
    assert "Signed copy" in text
    assert "Signature record" in text
    assert "Sid Signatory" in text and "Sofia Signatory" in text
    # The record names the hash of the draft each signatory saw (wrapped over two lines).
    assert draft in "".join(text.split())
    assert USER_AGENT in text
    assert "127.0.0.1" in text

    report = await stack.actor("officer").get(f"/v1/agreements/{agreement_id}/status-report")
    assert report.status_code == 200, report.text
    signatures = report.json()["signatures"]
    assert [(s["signer"]["name"], s["on_behalf_of"], s["order"]) for s in signatures] == [
        ("Sid Signatory", "State University", 1),
        ("Sofia Signatory", "Helio GmbH", 2),
    ]
    async with stack.sessions() as session:
        rows = list(
            await session.scalars(
                select(Signature)
                .where(Signature.agreement_id == agreement_id)
                .order_by(Signature.order)
            )
        )
    assert [(r.task_id, r.document_sha256) for r in rows] == [
        (first["id"], draft),
        (second["id"], draft),
    ]
    assert {(r.ip_address, r.user_agent) for r in rows} == {("127.0.0.1", USER_AGENT)}
    await mailbox.wait_for(
        lambda m: title in m["Subject"] and "signed by all and is now active" in m["Subject"]
    )


async def test_parallel_signatories_get_their_tasks_at_once(stack: Stack) -> None:
    cleared = await _in_signature(stack, proposal(signatories=parallel_signatories()))
    agreement_id = cleared["id"]
    tasks = cleared["open_tasks"]
    assert sorted(t["assignee"]["name"] for t in tasks) == ["Sid Signatory", "Sofia Signatory"]
    assert {t["step_key"] for t in tasks} == {"signature_1"}
    assert len({t["due_at"] for t in tasks}) == 1, "one envelope, one expiry"
    sofia = next(t for t in tasks if t["assignee"]["name"] == "Sofia Signatory")
    sid = next(t for t in tasks if t["assignee"]["name"] == "Sid Signatory")

    # Sofia may sign first: nobody waits on Sid.
    response = await sign(stack, sofia)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "in_signature"
    assert [t["id"] for t in body["open_tasks"]] == [sid["id"]]

    response = await sign(stack, sid)
    assert response.status_code == 200, response.text
    active = response.json()
    assert active["status"] == "active"
    assert active["effective_at"] is not None
    assert _types(await events(stack, agreement_id))[-3:] == ["signed", "signed", "activated"]


async def test_a_stale_or_malformed_digest_is_refused(stack: Stack) -> None:
    cleared = await _in_signature(stack)
    [first] = cleared["open_tasks"]
    draft = cleared["document"]["sha256"]
    url = f"/v1/tasks/{first['id']}/decision"
    sid = stack.actor("signatory1")

    stale = await sid.post(url, json={"outcome": "sign", "document_sha256": "0" * 64})
    assert stale.status_code == 409, stale.text
    assert "document changed" in stale.text
    for malformed in ("abc123", draft.upper(), draft + "0", "g" * 64):
        response = await sid.post(url, json={"outcome": "sign", "document_sha256": malformed})
        assert response.status_code == 422, (malformed, response.text)
        assert response.json()["detail"][0]["loc"] == ["body", "document_sha256"]
    missing = await sid.post(url, json={"outcome": "sign"})
    assert missing.status_code == 422, missing.text
    assert missing.json()["detail"][0]["loc"] == ["body", "document_sha256"]
    wrong_outcome = await sid.post(url, json={"outcome": "approve"})
    assert wrong_outcome.status_code == 422, wrong_outcome.text

    # Nothing was recorded: the task is still open, and the right digest signs it.
    still = await task(stack, first["id"])
    assert still["status"] == "open" and still["decisions"] == []
    body = await agreement(stack, cleared["id"])
    assert body["status"] == "in_signature"
    assert _types(await events(stack, cleared["id"]))[-1] == "cleared"
    response = await sign(stack, first, draft)
    assert response.status_code == 200, response.text


async def test_decline_returns_to_the_officer_and_a_revision_sends_a_new_envelope(
    stack: Stack, mailbox: Mailbox
) -> None:
    cleared = await _in_signature(stack, proposal(signatories=parallel_signatories()))
    agreement_id, title = cleared["id"], cleared["title"]
    old_draft = cleared["document"]["sha256"]
    sofia = next(t for t in cleared["open_tasks"] if t["assignee"]["name"] == "Sofia Signatory")
    sid = next(t for t in cleared["open_tasks"] if t["assignee"]["name"] == "Sid Signatory")
    url = f"/v1/tasks/{sofia['id']}/decision"

    no_comment = await stack.actor("signatory2").post(url, json={"outcome": "decline"})
    assert no_comment.status_code == 422, no_comment.text
    assert no_comment.json()["detail"][0]["loc"] == ["body", "comment"]
    blank = await stack.actor("signatory2").post(url, json={"outcome": "decline", "comment": " "})
    assert blank.status_code == 422, blank.text

    reason = "Clause 4 must name the Munich site"
    response = await stack.actor("signatory2").post(
        url, json={"outcome": "decline", "comment": reason}
    )
    assert response.status_code == 200, response.text
    declined = response.json()
    assert declined["status"] == "changes_requested" and declined["stage"] == "review"
    assert declined["open_tasks"] == []
    sofia_task = await task(stack, sofia["id"])
    assert (sofia_task["status"], sofia_task["outcome"]) == ("done", "decline")
    assert (await task(stack, sid["id"]))["status"] == "cancelled"
    event = (await events(stack, agreement_id))[-1]
    assert event["type"] == "declined"
    assert event["to_status"] == "changes_requested"
    assert event["data"]["comment"] == reason
    assert event["actor"]["name"] == "Sofia Signatory"
    [mail] = await mailbox.wait_for(
        lambda m: title in m["Subject"] and "declined at signature" in m["Subject"]
    )
    assert mail["To"] == "olivia.officer@accord.test"
    assert reason in mail.get_content()
    late = await sign(stack, sid, old_draft)
    assert late.status_code == 409, late.text

    summary = "Exclusive license of the perovskite patent family; performed at the Munich site."
    revised = await stack.actor("officer").post(
        f"/v1/agreements/{agreement_id}/revisions", json={"summary": summary, "comment": "Munich"}
    )
    assert revised.status_code == 200, revised.text
    body = revised.json()
    assert body["status"] == "in_review" and body["revision"] == 1
    assert [t["round"] for t in body["open_tasks"]] == [1]
    assert [t["kind"] for t in body["open_tasks"]] == ["review"]

    reviewed = await review(stack, agreement_id)
    assert reviewed["status"] == "ip_clearance", reviewed
    [clearance] = reviewed["open_tasks"]
    assert clearance["round"] == 1
    response = await clear(stack, clearance)
    assert response.status_code == 200, response.text
    resent = response.json()
    assert resent["status"] == "in_signature"
    new_draft = resent["document"]["sha256"]
    assert new_draft != old_draft
    tasks = resent["open_tasks"]
    assert len(tasks) == 2 and {t["round"] for t in tasks} == {1}
    assert not {t["id"] for t in tasks} & {sid["id"], sofia["id"]}
    document = await stack.actor("signatory1").get(f"/v1/agreements/{agreement_id}/document")
    assert hashlib.sha256(document.content).hexdigest() == new_draft
    assert "Munich site" in pdf_text(document.content)

    # The hash of the declined draft no longer signs.
    stale = await sign(stack, tasks[0], old_draft)
    assert stale.status_code == 409, stale.text
    active = await sign_all(stack, agreement_id)
    assert active["status"] == "active"
    assert _types(await events(stack, agreement_id))[-3:] == ["signed", "signed", "activated"]


@pytest.fixture
async def expiring_stack(
    base_settings: Settings,
    temporal_client: Client,
    engine: AsyncEngine,
    tokens: dict[str, str],
    screening_list: None,
) -> AsyncIterator[Stack]:
    """An envelope valid for six seconds: reminders at 30% and 65% of it."""
    async with running_stack(
        base_settings,
        temporal_client,
        engine,
        tokens,
        signature_validity_days=6 / 86400,
        reminder_share=0.3,
    ) as stack:
        yield stack


async def test_an_unsigned_envelope_is_reminded_then_expires(
    expiring_stack: Stack, mailbox: Mailbox
) -> None:
    stack = expiring_stack
    cleared = await _in_signature(stack, proposal(signatories=parallel_signatories()))
    agreement_id, title = cleared["id"], cleared["title"]
    tasks = cleared["open_tasks"]
    assert len(tasks) == 2
    expires_at = _at(tasks[0]["due_at"])
    cleared_at = _at((await events(stack, agreement_id))[-1]["at"])
    assert 5 <= (expires_at - cleared_at).total_seconds() <= 7

    for email in ("sid.signatory@accord.test", "sofia.signatory@accord.test"):
        reminders = await mailbox.wait_for(_to(email, title, "Reminder"), count=2, within=15)
        assert all("envelope expires" in m["Subject"] for m in reminders)

    async def expired() -> dict[str, Any] | None:
        body = await agreement(stack, agreement_id)
        return body if body["status"] == "expired" else None

    body = await eventually(expired, within=20, what="envelope expiry")
    assert body["stage"] == "closed" and body["open_tasks"] == []
    for opened in tasks:
        assert (await task(stack, opened["id"]))["status"] == "expired"

    timeline = await events(stack, agreement_id)
    after_clearance = _types(timeline)[_types(timeline).index("cleared") + 1 :]
    # Two reminders to each of the two tasks, all before the expiry.
    assert after_clearance == ["reminder"] * 4 + ["envelope_expired"]
    assert sorted(e["data"]["reminder"] for e in timeline[-5:-1]) == [
        "final_reminder",
        "final_reminder",
        "reminder",
        "reminder",
    ]
    assert all(_at(e["at"]) < expires_at for e in timeline[-5:-1])
    assert timeline[-1]["data"] == {"signed": 0, "signatories": 2}
    assert _at(timeline[-1]["at"]) >= expires_at
    await mailbox.wait_for(lambda m: title in m["Subject"] and "expired" in m["Subject"])

    response = await sign(stack, tasks[0], cleared["document"]["sha256"])
    assert response.status_code == 409, response.text


async def test_the_officer_may_withdraw_during_signature(stack: Stack) -> None:
    cleared = await _in_signature(stack)
    [first] = cleared["open_tasks"]
    response = await sign(stack, first)
    assert response.status_code == 200, response.text
    [second] = response.json()["open_tasks"]

    response = await stack.actor("officer").post(
        f"/v1/agreements/{cleared['id']}/withdrawal", json={"reason": "partner walked away"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "withdrawn" and body["open_tasks"] == []
    assert (await task(stack, second["id"]))["status"] == "cancelled"
    event = (await events(stack, cleared["id"]))[-1]
    assert event["type"] == "withdrawn" and event["from_status"] == "in_signature"
    late = await sign(stack, second)
    assert late.status_code == 409, late.text


async def test_a_signature_task_cannot_be_reassigned(stack: Stack) -> None:
    cleared = await _in_signature(stack)
    [first] = cleared["open_tasks"]
    users = (await stack.actor("admin").get("/v1/users", params={"role": "signatory"})).json()
    sofia = next(u for u in users if u["email"] == "sofia.signatory@accord.test")

    for assignment in ({"user_id": sofia["id"]}, {"group": "legal-review"}):
        response = await stack.actor("admin").post(
            f"/v1/tasks/{first['id']}/assignment", json={**assignment, "reason": "Sid is away"}
        )
        assert response.status_code == 409, response.text
    unchanged = await task(stack, first["id"])
    assert unchanged["status"] == "open"
    assert unchanged["assignee"]["name"] == "Sid Signatory"
    assert _types(await events(stack, cleared["id"]))[-1] == "cleared"


async def test_activation_records_the_license_and_a_later_exclusive_grant_conflicts(
    stack: Stack,
) -> None:
    registered = await register_asset(stack)
    identifier = registered["identifier"]
    active = await to_active(stack, proposal(ip_assets=[identifier]))

    response = await stack.actor("counsel").get(f"/v1/ip-assets/{identifier}")
    assert response.status_code == 200, response.text
    [license_] = response.json()["licenses"]
    assert license_["licensee"] == "Helio GmbH"
    assert license_["agreement_id"] == active["id"]
    assert license_["active"] is True and license_["exclusive"] is True
    assert sorted(license_["territories"]) == ["DE", "FR"]
    assert license_["starts_on"] == active["effective_at"][:10]
    assert license_["ends_on"] == active["ends_at"][:10]

    # Every signature is in: the officer can no longer withdraw.
    response = await stack.actor("officer").post(
        f"/v1/agreements/{active['id']}/withdrawal", json={"reason": "too late"}
    )
    assert response.status_code == 409, response.text

    later = await to_clearance(stack, proposal(ip_assets=[identifier]))
    conflicts = [f for f in later["findings"] if f["kind"] == "license_conflict"]
    assert len(conflicts) == 1, later["findings"]
    assert conflicts[0]["subject"] == identifier
    assert conflicts[0]["severity"] == "critical"
    assert conflicts[0]["evidence"]["licensee"] == "Helio GmbH"


async def test_a_plain_clear_carries_no_conditions_into_the_document(stack: Stack) -> None:
    clearance = await to_clearance(stack, proposal(ip_assets=[]))
    response = await clear(
        stack, clearance, "clear", data={"conditions": ["Smuggled condition", {"not": "text"}]}
    )
    # Either refused, or the conditions outside `conditions` are ignored.
    if response.status_code != 422:
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["conditions"] == []
        document = await stack.actor("officer").get(f"/v1/agreements/{body['id']}/document")
        assert "Smuggled condition" not in pdf_text(document.content)


async def test_the_status_report_lists_only_the_signatures_of_the_signed_copy(
    stack: Stack,
) -> None:
    cleared = await _in_signature(stack)
    agreement_id = cleared["id"]
    [first] = cleared["open_tasks"]
    response = await sign(stack, first)
    assert response.status_code == 200, response.text
    [second] = response.json()["open_tasks"]
    response = await stack.actor("signatory2").post(
        f"/v1/tasks/{second['id']}/decision", json={"outcome": "decline", "comment": "Clause 4"}
    )
    assert response.status_code == 200, response.text
    revised = await stack.actor("officer").post(
        f"/v1/agreements/{agreement_id}/revisions", json={"summary": "Clause 4 reworded."}
    )
    assert revised.status_code == 200, revised.text
    assert (await review(stack, agreement_id))["status"] == "ip_clearance"
    [clearance] = (await agreement(stack, agreement_id))["open_tasks"]
    assert (await clear(stack, clearance)).status_code == 200
    active = await sign_all(stack, agreement_id)
    assert active["status"] == "active"

    report = await stack.actor("officer").get(f"/v1/agreements/{agreement_id}/status-report")
    assert report.status_code == 200, report.text
    signatures = report.json()["signatures"]
    assert [(s["signer"]["name"], s["order"]) for s in signatures] == [
        ("Sid Signatory", 1),
        ("Sofia Signatory", 2),
    ]
