"""IP clearance: the automatic checks, counsel's decision, and remembered false positives."""

from __future__ import annotations

import hashlib
import uuid

from tests.factories import (
    agreement,
    clear,
    events,
    pdf_text,
    proposal,
    register_asset,
    to_clearance,
)
from tests.stack import Mailbox, Stack


def kinds(task: dict) -> set[str]:
    return {f["kind"] for f in task["findings"]}


async def test_clean_agreement_has_no_finding_and_clears_into_signature(stack: Stack) -> None:
    registered = await register_asset(stack)
    task = await to_clearance(stack, proposal(ip_assets=[registered["identifier"]]))
    assert task["findings"] == []
    assert task["assignee"] == {"type": "group", "id": task["assignee"]["id"], "name": "IP counsel"}

    response = await clear(stack, task)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "in_signature"
    assert body["document"]["sha256"] and body["conditions"] == []
    timeline = [e["type"] for e in await events(stack, body["id"])]
    assert timeline[-3:] == ["review_completed", "ip_checks_completed", "cleared"]


async def test_each_asset_finding_is_raised_with_its_evidence(stack: Stack) -> None:
    lapsed = await register_asset(stack, status="abandoned")
    unassigned = await register_asset(
        stack, inventors=[{"name": "Grace Hopper", "assignment_recorded": False}]
    )
    licensed = await register_asset(
        stack,
        licenses=[
            {
                "licensee": "Sunrise Solar SA",
                "exclusive": True,
                "field_of_use": "Photovoltaics",
                "territories": ["FR", "BE"],
                "starts_on": "2024-01-01",
            }
        ],
    )
    funded = await register_asset(
        stack, funding=[{"source": "government", "agency": "DOE", "award_number": "DE-SC0012"}]
    )
    unknown = f"EP-{uuid.uuid4().hex[:8]}"
    body = proposal(
        ip_assets=[
            lapsed["identifier"],
            unassigned["identifier"],
            licensed["identifier"],
            funded["identifier"],
            unknown,
        ],
    )
    body["terms"]["territories"] = ["US", "FR"]
    task = await to_clearance(stack, body)

    by_subject = {(f["subject"], f["kind"]): f for f in task["findings"]}
    assert (lapsed["identifier"], "asset_lapsed") in by_subject
    assert (unassigned["identifier"], "assignment_missing") in by_subject
    assert (unknown, "asset_not_registered") in by_subject
    conflict = by_subject[(licensed["identifier"], "license_conflict")]
    assert conflict["severity"] == "critical"
    assert conflict["evidence"]["licensee"] == "Sunrise Solar SA"
    assert "FR" in str(conflict["evidence"])
    assert (funded["identifier"], "government_rights") in by_subject
    assert (funded["identifier"], "us_manufacture") in by_subject
    assert "screening_hit" not in kinds(task)


async def test_screening_hit_and_missing_export_classification(stack: Stack) -> None:
    body = proposal(
        kind="defense_sharing",
        parties=[
            {"name": "State University", "country": "US", "role": "provider"},
            {"name": "Rosoboronexport", "country": "RU", "role": "recipient"},
        ],
        signatories=[
            {"email": "sid.signatory@accord.test", "on_behalf_of": "State University"},
        ],
        ip_assets=[],
    )
    task = await to_clearance(stack, body)
    assert {"screening_hit", "export_classification_missing"} <= kinds(task)
    hit = next(f for f in task["findings"] if f["kind"] == "screening_hit")
    assert hit["subject"] == "Rosoboronexport"
    assert hit["severity"] == "critical"
    assert hit["evidence"]["entry_name"] == "ROSOBORONEXPORT OAO"


async def test_classification_requiring_a_license_must_name_one(stack: Stack) -> None:
    body = proposal(
        kind="defense_sharing",
        ip_assets=[],
        export_control={"jurisdiction": "ITAR", "classification": "XI"},
    )
    task = await to_clearance(stack, body)
    assert "export_license_missing" in kinds(task)
    assert "export_classification_missing" not in kinds(task)

    licensed = proposal(
        kind="defense_sharing",
        ip_assets=[],
        export_control={
            "jurisdiction": "ITAR",
            "classification": "XI(a)",
            "license_number": "DSP-5 050-123456",
        },
    )
    task = await to_clearance(stack, licensed)
    assert not {"export_license_missing", "export_classification_missing"} & kinds(task)


async def test_block_ends_the_agreement(stack: Stack, mailbox: Mailbox) -> None:
    task = await to_clearance(stack, proposal(ip_assets=[]))
    missing_comment = await clear(stack, task, "block")
    assert missing_comment.status_code == 422
    assert missing_comment.json()["detail"][0]["loc"] == ["body", "comment"]

    response = await clear(stack, task, "block", comment="Conflicts with an exclusive license")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "blocked" and body["stage"] == "closed"
    assert body["open_tasks"] == []
    await mailbox.wait_for(
        lambda m: "blocked in IP clearance" in m["Subject"] and body["title"] in m["Subject"]
    )
    again = await clear(stack, task)
    assert again.status_code == 409


async def test_conditions_are_recorded_and_carried_into_the_document(stack: Stack) -> None:
    task = await to_clearance(stack, proposal(ip_assets=[]))
    no_conditions = await clear(stack, task, "clear_with_conditions")
    assert no_conditions.status_code == 422
    assert no_conditions.json()["detail"][0]["loc"] == ["body", "conditions"]

    conditions = ["Licensee records the assignment from Dr. Hopper", "No sublicensing in RU"]
    response = await clear(stack, task, "clear_with_conditions", conditions=conditions)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["conditions"] == conditions
    document = await stack.actor("officer").get(f"/v1/agreements/{body['id']}/document")
    assert document.status_code == 200
    assert document.headers["content-type"] == "application/pdf"
    assert document.headers["x-document-sha256"] == body["document"]["sha256"]
    assert hashlib.sha256(document.content).hexdigest() == body["document"]["sha256"]
    assert "No sublicensing in RU" in pdf_text(document.content)


async def test_a_false_positive_is_remembered_for_that_party(stack: Stack) -> None:
    party = {"name": "Huawei Technologies Co Ltd", "country": "CN", "role": "licensee"}
    body = proposal(
        parties=[{"name": "State University", "country": "US", "role": "licensor"}, party],
        ip_assets=[],
        signatories=[{"email": "sid.signatory@accord.test", "on_behalf_of": "State University"}],
    )
    task = await to_clearance(stack, body)
    hits = [f for f in task["findings"] if f["kind"] == "screening_hit"]
    assert hits, task["findings"]
    hit = hits[0]
    url = f"/v1/agreements/{task['agreement_id']}/findings/{hit['id']}/dismissal"

    reviewer = await stack.actor("reviewer1").post(url, json={"reason": "different company"})
    assert reviewer.status_code == 403
    no_reason = await stack.actor("counsel").post(url, json={})
    assert no_reason.status_code == 422
    dismissed = await stack.actor("counsel").post(
        url, json={"reason": "Our licensee is an unrelated Shenzhen reseller; checked registry"}
    )
    assert dismissed.status_code == 200, dismissed.text
    assert dismissed.json()["status"] == "dismissed"
    twice = await stack.actor("counsel").post(url, json={"reason": "again"})
    assert twice.status_code == 409

    timeline = await events(stack, task["agreement_id"])
    assert timeline[-1]["type"] == "finding_dismissed"
    assert timeline[-1]["data"]["reason"].startswith("Our licensee")

    # The same party on a new agreement: that hit is not raised again.
    again = await to_clearance(stack, body)
    entries = {
        f["evidence"].get("entry_id") for f in again["findings"] if f["kind"] == "screening_hit"
    }
    assert hit["evidence"]["entry_id"] not in entries


async def test_only_screening_hits_can_be_dismissed(stack: Stack) -> None:
    task = await to_clearance(stack, proposal(ip_assets=[f"EP-{uuid.uuid4().hex[:8]}"]))
    finding = task["findings"][0]
    assert finding["kind"] == "asset_not_registered"
    response = await stack.actor("counsel").post(
        f"/v1/agreements/{task['agreement_id']}/findings/{finding['id']}/dismissal",
        json={"reason": "registered later"},
    )
    assert response.status_code == 409


async def test_withdrawal_during_clearance_cancels_counsels_task(stack: Stack) -> None:
    task = await to_clearance(stack, proposal(ip_assets=[]))
    response = await stack.actor("officer").post(
        f"/v1/agreements/{task['agreement_id']}/withdrawal", json={"reason": "partner left"}
    )
    assert response.status_code == 200
    assert (await agreement(stack, task["agreement_id"]))["status"] == "withdrawn"
    assert await clearance_task_gone(stack, task)


async def clearance_task_gone(stack: Stack, task: dict) -> bool:
    response = await stack.actor("counsel").get(f"/v1/tasks/{task['id']}")
    return response.json()["status"] == "cancelled"


async def test_signatories_must_be_signatory_users(stack: Stack) -> None:
    body = proposal(
        signatories=[{"email": "nobody@accord.test", "on_behalf_of": "State University"}]
    )
    response = await stack.actor("officer").post("/v1/proposals", json=body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "signatories", 0, "email"]
    stranger = proposal(
        signatories=[{"email": "sid.signatory@accord.test", "on_behalf_of": "Someone Else"}]
    )
    response = await stack.actor("officer").post("/v1/proposals", json=stranger)
    assert response.status_code == 422


async def test_a_plain_clear_is_refused_while_a_critical_finding_is_open(stack: Stack) -> None:
    """A critical finding needs an answer: conditions that address it, a dismissal (for
    a false positive), or a block. A plain clear would let it through unanswered."""
    task = await to_clearance(stack, proposal(kind="defense_sharing", ip_assets=[]))
    assert "export_classification_missing" in kinds(task)
    refused = await clear(stack, task)
    assert refused.status_code == 409, refused.text
    assert "export_classification_missing" in refused.json()["detail"]
    assert (await agreement(stack, task["agreement_id"]))["status"] == "ip_clearance"

    response = await clear(
        stack,
        task,
        "clear_with_conditions",
        conditions=["EAR classification and license confirmed before any transfer"],
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "in_signature"
