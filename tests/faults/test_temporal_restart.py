"""The Temporal server dies mid-lifecycle and comes back on the same port and file: the
worker and the API reconnect by themselves, and every agreement completes."""

from __future__ import annotations

import asyncio
import random
import signal
import time
import uuid
from pathlib import Path

from services.config import Settings
from tests.faults.drive import Driver, check_invariants
from tests.faults.processes import TemporalServer, api_only, worker_process

AGREEMENTS = 6


async def test_agreements_complete_across_a_temporal_server_restart(
    base_settings: Settings,
    database_url: str,
    tokens: dict[str, str],
    screening_list: None,
    fault_rng: random.Random,
    tmp_path: Path,
) -> None:
    server = TemporalServer(tmp_path)
    try:
        async with asyncio.timeout(180):
            await server.start()
            settings = base_settings.model_copy(
                update={
                    "task_queue": f"accord-faults-{uuid.uuid4()}",
                    "temporal_address": server.address,
                    "update_timeout_seconds": 10,
                }
            )
            # The API's client is lazy, as in production: it connects, and reconnects, on use.
            async with (
                worker_process(settings, tmp_path / "worker.log") as worker,
                api_only(settings, await server.client(), database_url, tokens) as stack,
            ):
                driver = Driver(stack, within=150)
                started = time.monotonic()
                drive = asyncio.ensure_future(
                    asyncio.gather(*(driver.to_active(i) for i in range(AGREEMENTS)))
                )
                try:
                    # Kill once a share of the decisions went through, so the outage
                    # lands mid-lifecycle however fast the machine is.
                    decisions = 5 * AGREEMENTS
                    target = fault_rng.randint(decisions // 5, decisions * 3 // 5)
                    while driver.tally.statuses["POST 200"] < target:
                        if drive.done():
                            drive.result()  # an error in the drive shows itself here
                            raise AssertionError("every agreement was through before the outage")
                        await asyncio.sleep(0.02)
                    await server.stop(signal.SIGKILL)
                    stopped = time.monotonic() - started
                    ready = await stack.api.get("/readyz")
                    assert ready.status_code == 503, ready.text
                    assert ready.json()["checks"]["temporal"].startswith("unreachable"), ready.text
                    assert ready.json()["checks"]["database"] == "ok", ready.text
                    await asyncio.sleep(fault_rng.uniform(1.0, 3.0))
                    await server.start()
                    restarted = time.monotonic() - started
                    agreement_ids = await drive
                finally:
                    drive.cancel()
                print(
                    f"killed after {target} decisions at {stopped:.1f}s, back at {restarted:.1f}s,"
                    f" done at {time.monotonic() - started:.1f}s; {driver.tally}"
                )
                assert (await stack.api.get("/readyz")).status_code == 200
                await check_invariants(stack, agreement_ids, driver.keys)
                assert worker.process is not None and worker.process.returncode is None, (
                    "the worker did not ride out the outage"
                )
                assert worker.starts == 1
    finally:
        await server.stop(signal.SIGTERM)
