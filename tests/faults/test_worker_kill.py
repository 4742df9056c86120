"""The worker process is SIGKILLed at random points while 30 agreements are in flight,
and started again: every agreement reaches its state, every decision lands once, and
each timeline has no duplicate and no gap.

The kill points come from ACCORD_FAULT_SEED (printed; set it to replay a schedule or try
another); ACCORD_FAULT_KILLS sets how many kills (3).
"""

from __future__ import annotations

import asyncio
import os
import random
import time
import uuid
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from services.config import Settings
from tests.faults.drive import Driver, check_invariants
from tests.faults.processes import WorkerProcess, api_only, worker_process

AGREEMENTS = 30
KILLS = int(os.environ.get("ACCORD_FAULT_KILLS", "3"))


async def _killer(worker: WorkerProcess, rng: random.Random, done: asyncio.Event) -> list[str]:
    """Kill the worker at random moments, starting it again after a random pause."""
    log: list[str] = []
    started = time.monotonic()
    for _ in range(KILLS):
        try:
            await asyncio.wait_for(done.wait(), rng.uniform(1.0, 4.0))
            break  # every agreement got through before this kill
        except TimeoutError:
            pass
        await worker.kill()
        down = rng.uniform(0.0, 2.0)
        log.append(f"killed at {time.monotonic() - started:.1f}s, down {down:.1f}s")
        await asyncio.sleep(down)
        await worker.start()
    return log


async def test_agreements_survive_a_worker_killed_at_random_points(
    base_settings: Settings,
    temporal_env: WorkflowEnvironment,
    database_url: str,
    tokens: dict[str, str],
    screening_list: None,
    fault_rng: random.Random,
    tmp_path: Path,
) -> None:
    settings = base_settings.model_copy(
        update={
            "task_queue": f"accord-faults-{uuid.uuid4()}",
            "temporal_address": temporal_env.client.service_client.config.target_host,
            # With the worker dead a request gets its 504 soon, and the user retries.
            "update_timeout_seconds": 10,
        }
    )
    # A killed attempt of a 2-minute activity (clearance checks, rendering) is retried
    # only when that attempt times out: the whole run can take 2.5 minutes.
    async with (
        asyncio.timeout(240),
        api_only(settings, temporal_env.client, database_url, tokens) as stack,
        worker_process(settings, tmp_path / "worker.log", temporal_env.client) as worker,
    ):
        driver = Driver(stack, within=200)
        done = asyncio.Event()
        killer = asyncio.create_task(_killer(worker, fault_rng, done))
        started = time.monotonic()
        try:
            agreement_ids = await asyncio.gather(*(driver.to_active(i) for i in range(AGREEMENTS)))
        finally:
            done.set()
            kills = await killer
        print(f"done in {time.monotonic() - started:.1f}s; {'; '.join(kills)}; {driver.tally}")
        assert worker.kills >= min(KILLS, 1), "every agreement was through before the first kill"
        await check_invariants(stack, agreement_ids, driver.keys)
