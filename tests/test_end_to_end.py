"""Two agreements, a defense_sharing and a license, from submission to completed through
the HTTP API only (the time-skipping server stands in for the years between)."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from temporalio.testing import WorkflowEnvironment

from tests.factories import REVIEWERS, asset, eventually, signer_of, skip_time
from tests.stack import Stack


async def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def drive_review(stack: Stack, agreement_id: str) -> dict[str, Any]:
    body = await ok(await stack.actor("officer").get(f"/v1/agreements/{agreement_id}"))
    while body["status"] == "in_review":
        (task,) = body["open_tasks"]
        for actor in REVIEWERS[task["step_key"]]:
            body = await ok(
                await stack.actor(actor).post(
                    f"/v1/tasks/{task['id']}/decision", json={"outcome": "approve"}
                )
            )
    return body


async def drive_signature(stack: Stack, agreement_id: str) -> dict[str, Any]:
    body = await ok(await stack.actor("officer").get(f"/v1/agreements/{agreement_id}"))
    while body["status"] == "in_signature":
        for task in body["open_tasks"]:
            signer = stack.actor(await signer_of(stack, task))
            detail = await ok(await signer.get(f"/v1/tasks/{task['id']}"))
            document = await signer.get(detail["document"]["url"])
            digest = hashlib.sha256(document.content).hexdigest()
            assert digest == detail["document"]["sha256"]
            body = await ok(
                await signer.post(
                    f"/v1/tasks/{task['id']}/decision",
                    json={"outcome": "sign", "document_sha256": digest},
                    headers={"User-Agent": "e2e-browser/1.0"},
                )
            )
    return body


async def submit_open_reports(stack: Stack, agreement_id: str, income: str) -> int:
    inbox = await ok(
        await stack.actor("officer").get(
            "/v1/tasks", params={"assignee": "me", "agreement_id": agreement_id}
        )
    )
    for task in inbox["items"]:
        await ok(
            await stack.actor("officer").post(
                f"/v1/tasks/{task['id']}/decision",
                json={
                    "outcome": "submit",
                    "report": {"narrative": f"{task['step_name']} done", "income": income},
                },
            )
        )
    return len(inbox["items"])


async def test_defense_sharing_and_license_from_submission_to_completed(
    time_skipping_stack: Stack, time_skipping_env: WorkflowEnvironment
) -> None:
    stack, env = time_skipping_stack, time_skipping_env
    patent = await ok(await stack.actor("counsel").post("/v1/ip-assets", json=asset()), 201)
    license_body = {
        "title": "Tandem-cell license to Helio",
        "kind": "license",
        "parties": [
            {"name": "State University", "country": "US", "role": "licensor"},
            {"name": "Helio GmbH", "country": "DE", "role": "licensee"},
        ],
        "ip_assets": [patent["identifier"]],
        "terms": {
            "exclusive": True,
            "field_of_use": "photovoltaics",
            "territories": ["DE"],
            "term_months": 12,
            "reporting_period_months": 6,
        },
        "estimated_value": "250000.00",
        "signatories": [
            {"email": "sid.signatory@accord.test", "on_behalf_of": "State University"},
            {"email": "sofia.signatory@accord.test", "on_behalf_of": "Helio GmbH", "order": 2},
        ],
    }
    defense_body = {
        "title": "Optics sharing with Fraunhofer",
        "kind": "defense_sharing",
        "parties": [
            {"name": "State University", "country": "US", "role": "provider"},
            {
                "name": "Fraunhofer Institute for Applied Optics",
                "country": "DE",
                "role": "recipient",
            },
        ],
        "terms": {"term_months": 12, "reporting_period_months": 12},
        "estimated_value": "0",
        "export_control": {
            "jurisdiction": "EAR",
            "classification": "6A004",
            "license_number": "D1234567",
        },
        "signatories": [
            {"email": "sid.signatory@accord.test", "on_behalf_of": "State University"},
            {
                "email": "sofia.signatory@accord.test",
                "on_behalf_of": "Fraunhofer Institute for Applied Optics",
            },
        ],
    }
    ids = []
    for body in (license_body, defense_body):
        submitted = await ok(await stack.actor("officer").post("/v1/proposals", json=body), 201)
        reviewed = await drive_review(stack, submitted["id"])
        assert reviewed["status"] == "ip_clearance"
        (counsel_task,) = reviewed["open_tasks"]
        task = await ok(await stack.actor("counsel").get(f"/v1/tasks/{counsel_task['id']}"))
        assert task["findings"] == [], task["findings"]
        cleared = await ok(
            await stack.actor("counsel").post(
                f"/v1/tasks/{task['id']}/decision",
                json={"outcome": "clear_with_conditions", "conditions": ["Annual audit right"]},
            )
        )
        assert cleared["status"] == "in_signature"
        active = await drive_signature(stack, submitted["id"])
        assert active["status"] == "active", active
        ids.append(submitted["id"])

    # Six months: the license's first report; a year: the last reports, then the end.
    await skip_time(env, timedelta(days=170))
    await eventually(lambda: submit_open_reports(stack, ids[0], "1000.00"), what="first report")
    await skip_time(env, timedelta(days=170))
    for agreement_id in ids:
        await eventually(
            lambda a=agreement_id: submit_open_reports(stack, a, "2000.00"), what="report"
        )
    await skip_time(env, timedelta(days=40))

    for agreement_id in ids:

        async def completed(a: str = agreement_id) -> bool:
            body = await ok(await stack.actor("officer").get(f"/v1/agreements/{a}"))
            return bool(body["status"] == "completed")

        await eventually(completed, what="completion")
        events = await ok(await stack.actor("officer").get(f"/v1/agreements/{agreement_id}/events"))
        report = await ok(
            await stack.actor("officer").get(f"/v1/agreements/{agreement_id}/status-report")
        )
        # The report tells the same story as the timeline.
        assert [e["seq"] for e in report["timeline"]] == [e["seq"] for e in events]
        assert [e["type"] for e in report["timeline"]] == [e["type"] for e in events]
        assert [e["type"] for e in events][-1] == "completed"
        assert report["status"] == "completed" and report["stage"] == "closed"
        stages = {s["stage"]: s["days"] for s in report["stage_days"]}
        assert {"review", "ip_clearance", "signature", "active"} <= stages.keys()
        assert 360 <= stages["active"] <= 370
        assert {o["status"] for o in report["obligations"]} == {"met"}
        assert len(report["signatures"]) == 2
        assert report["overdue_tasks"] == []

    portfolio = await ok(await stack.actor("admin").get("/v1/reports/portfolio"))
    assert portfolio["by_status"]["completed"] >= 2
    assert portfolio["licensing"]["licenses_executed"] >= 1
    assert float(portfolio["licensing"]["income_total"]) >= 5000
