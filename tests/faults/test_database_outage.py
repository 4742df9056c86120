"""The database goes away mid-lifecycle and comes back: the API says so, the workflow's
writes wait and retry, nothing is half-written, and then everything completes.

On PostgreSQL the test runs a cluster of its own and crashes it (`pg_ctl stop -m
immediate`): reads and writes fail, so the API answers 503 at once. On SQLite another
connection holds the write lock (`BEGIN EXCLUSIVE`); in WAL mode readers are not
blocked, so the API keeps serving reads and a command is accepted by its workflow but
cannot be confirmed: 504, "it may still apply", which it then does.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import select
from temporalio.api.enums.v1 import PendingActivityState
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from services.config import Settings
from services.store import Agreement, TaskDecision
from services.workers.failures import MAX_MESSAGE
from tests.factories import proposal
from tests.faults.drive import STEPS, Driver, check_invariants
from tests.faults.processes import PrivatePostgres, PrivateSqlite, api_only, worker_process
from workflows.agreement import AgreementWorkflow
from workflows.core.activities import PERSIST_TRANSITION
from workflows.review.messages import ReviewDecision

AGREEMENTS = 6


@pytest.fixture
async def private_database(tmp_path: Path) -> AsyncIterator[PrivatePostgres | PrivateSqlite]:
    """A database of the test's own, of the kind this run uses, migrated and seeded."""
    if os.environ.get("ACCORD_TEST_DATABASE", "sqlite") == "postgresql":
        database: PrivatePostgres | PrivateSqlite = PrivatePostgres()
    else:
        database = PrivateSqlite(tmp_path)
    try:
        await database.setup()
        yield database
    finally:
        await database.teardown()


async def _pending_write(handle: WorkflowHandle[Any, Any], attempt: int) -> str:
    """Wait until the workflow's write is pending at this attempt; what it last failed with."""
    while True:
        description = await handle.describe()
        for pending in description.raw_description.pending_activities:
            if pending.activity_type.name == PERSIST_TRANSITION and pending.attempt >= attempt:
                failure = pending.last_failure.message or "no failure yet"
                state = PendingActivityState.Name(pending.state)
                return f"attempt {pending.attempt}, {state}, last failure: {failure}"
        await asyncio.sleep(0.2)


def _unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.json()["error"] == "unavailable", response.text
    assert "database" in response.json()["detail"], response.text
    assert response.headers["Retry-After"], response.headers


async def test_the_lifecycle_waits_out_a_database_outage(
    private_database: PrivatePostgres | PrivateSqlite,
    base_settings: Settings,
    temporal_env: WorkflowEnvironment,
    fault_rng: random.Random,
    tmp_path: Path,
) -> None:
    database = private_database
    settings = base_settings.model_copy(
        update={
            "database_url": database.url,
            "task_queue": f"accord-faults-{uuid.uuid4()}",
            "temporal_address": temporal_env.client.service_client.config.target_host,
            "update_timeout_seconds": 5,
        }
    )
    async with (
        asyncio.timeout(200),
        api_only(settings, temporal_env.client, database.url, database.tokens) as stack,
        worker_process(settings, tmp_path / "worker.log", temporal_env.client),
    ):
        driver = Driver(stack, within=150)
        probe = await driver.submit(0)
        technical = probe["open_tasks"][0]
        reviewer = (await stack.actor("reviewer1").get("/v1/me")).json()["id"]
        handle = temporal_env.client.get_workflow_handle(f"agreement-{probe['id']}")
        drive = asyncio.ensure_future(
            asyncio.gather(*(driver.to_active(i) for i in range(1, AGREEMENTS)))
        )
        try:
            await asyncio.sleep(fault_rng.uniform(0.5, 3.0))
            if database.reads_fail:
                # A request in the middle of a statement when the server dies.
                blocker = await asyncpg.connect(database.url.replace("+asyncpg", ""))
                await blocker.execute("BEGIN; LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
                cut = asyncio.create_task(stack.actor("admin").get("/v1/me"))
                await asyncio.sleep(0.5)
                assert not cut.done(), (await cut).text
            await database.down()
            down = time.monotonic()

            # A decision the API forwarded to the workflow just before: its write
            # cannot land, and waits (SQLite) or fails and retries (PostgreSQL).
            forwarded = asyncio.create_task(
                handle.execute_update(
                    AgreementWorkflow.decide,
                    ReviewDecision(
                        task_id=technical["id"],
                        actor_id=reviewer,
                        outcome="approve",
                        comment="forwarded just before the outage",
                    ),
                )
            )
            write = await _pending_write(handle, 2 if database.reads_fail else 1)

            key = f"outage-{uuid.uuid4().hex[:8]}"
            body = proposal(title=f"Submitted during the outage {key}")
            submission = stack.actor("officer").post(
                "/v1/proposals", json=body, headers={"Idempotency-Key": key}
            )
            # The other reviewer decides the same task: it must not count twice.
            decision = stack.actor("reviewer2").post(
                f"/v1/tasks/{technical['id']}/decision", json={"outcome": "approve"}
            )
            ready = await stack.api.get("/readyz")
            created, decided = await asyncio.gather(submission, decision)
            if database.reads_fail:
                assert ready.status_code == 503, ready.text
                assert ready.json()["checks"]["database"].startswith("unreachable"), ready.text
                assert ready.json()["checks"]["temporal"] == "ok", ready.text
                _unavailable(created)
                _unavailable(decided)
                _unavailable(await cut)
                blocker.terminate()
                # The write kept failing, and kept being retried, while we waited; Temporal
                # shows why in a line (not "Failure exceeds size limit").
                write = await _pending_write(handle, 3)
                failure = write.split("last failure: ", 1)[1]
                assert re.fullmatch(r"\w+: .+", failure), write
                assert len(failure) <= MAX_MESSAGE, write
            else:
                assert ready.status_code == 200, ready.text  # reads are served
                for response in (created, decided):
                    assert response.status_code == 504, response.text
                    assert "may still be applied" in response.json()["detail"]
            assert not forwarded.done()
            await asyncio.sleep(max(0.0, down + fault_rng.uniform(3.0, 6.0) - time.monotonic()))
            outage = time.monotonic() - down
            await database.up()
            result = await asyncio.wait_for(forwarded, 120)
            assert (result.status, result.seq) == ("in_review", 2), result
            recovered = time.monotonic() - down

            # After the outage the officer submits again with the same key: one agreement.
            driver.keys.append(key)
            response, _ = await driver.request(
                "officer", "POST", "/v1/proposals", json=body, headers={"Idempotency-Key": key}
            )
            assert response.status_code == 201, response.text
            if database.reads_fail:  # refused during the outage: this is its first run
                assert "Idempotent-Replayed" not in response.headers
            late = response.json()
            agreement_ids = [
                await driver.complete(probe["id"], None, STEPS[1:]),
                await driver.complete(late["id"], late, STEPS),
                *await drive,
            ]
        finally:
            drive.cancel()
        print(
            f"down {outage:.1f}s, forwarded decision applied {recovered:.1f}s after the"
            f" outage began; its write while down: {write}; {driver.tally}"
        )
        await check_invariants(stack, agreement_ids, driver.keys)
        async with stack.sessions() as session:
            voters = list(
                await session.scalars(
                    select(TaskDecision.actor_id).where(TaskDecision.task_id == technical["id"])
                )
            )
            assert voters == [reviewer]
            stored = await session.scalar(select(Agreement).where(Agreement.id == late["id"]))
            assert stored is not None and stored.idempotency_key == key
