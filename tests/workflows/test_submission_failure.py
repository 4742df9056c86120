"""A submission that cannot be planned leaves nothing behind and can be retried."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client, WorkflowFailureError

from services.config import Settings
from services.store import Agreement
from tests.factories import proposal
from tests.stack import running_stack

BROKEN = """
version: broken
steps:
  - {key: technical, name: Technical review, group: no-such-group, sla_hours: 72}
"""
FIXED = """
version: fixed
steps:
  - {key: technical, name: Technical review, group: technical-review, sla_hours: 72}
"""


async def test_failed_submission_writes_nothing_and_the_same_key_retries(
    base_settings: Settings,
    temporal_client: Client,
    engine: AsyncEngine,
    tokens: dict[str, str],
    tmp_path: Path,
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(BROKEN)
    body = proposal()
    headers = {"Idempotency-Key": "retry-after-policy-fix"}
    async with running_stack(
        base_settings, temporal_client, engine, tokens, review_policy_file=policy
    ) as stack:
        refused = await stack.actor("officer").post("/v1/proposals", json=body, headers=headers)
        assert refused.status_code == 503, refused.text
        assert "no-such-group" in refused.json()["detail"]
        async with stack.sessions() as session:
            rows = await session.scalar(
                select(func.count()).where(Agreement.title == body["title"])
            )
        assert rows == 0

        policy.write_text(FIXED)
        accepted = await stack.actor("officer").post("/v1/proposals", json=body, headers=headers)
        assert accepted.status_code == 201, accepted.text
        assert accepted.json()["policy_version"] == "fixed"
        # The retry ran as a new run of the same workflow id; the first run failed.
        workflow_id = accepted.json()["workflow_id"]
        runs = {
            execution.status.name: execution.run_id
            async for execution in stack.client.list_workflows(f"WorkflowId = '{workflow_id}'")
        }
        assert sorted(runs) == ["FAILED", "RUNNING"]
        first_run = stack.client.get_workflow_handle(workflow_id, run_id=runs["FAILED"])
        with pytest.raises(WorkflowFailureError) as failure:
            await first_run.result()
        assert "no-such-group" in str(failure.value.cause)


@pytest.mark.parametrize(
    "content",
    ["version: x\nsteps: [{key: a}]\n", "steps: [unclosed\n"],
    ids=["invalid policy", "not YAML"],
)
async def test_a_malformed_policy_file_is_reported_at_once(
    base_settings: Settings,
    temporal_client: Client,
    engine: AsyncEngine,
    tokens: dict[str, str],
    tmp_path: Path,
    content: str,
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(content)
    async with running_stack(
        base_settings, temporal_client, engine, tokens, review_policy_file=policy
    ) as stack:
        refused = await stack.actor("officer").post("/v1/proposals", json=proposal())
    assert refused.status_code == 503, refused.text
    assert "review policy" in refused.json()["detail"]
