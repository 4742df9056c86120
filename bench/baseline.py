"""The baseline: bare Temporal workflows with Accord's shape, and no database or HTTP.

`BareAgreement` takes, per agreement, the same Updates and runs the same activities as
Accord's lifecycle of a two-signatory license from submission to `active`
(`LIFECYCLE`): an update-with-start, then one Update per human decision, each running
its activities in order, and a notification delivery started in the background after
each persisted transition that has notices. The activities do nothing but return.

Run its worker as a process of its own, as Accord's runs:

    .venv/bin/python -m bench.baseline --address 127.0.0.1:7233 --task-queue bare
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import Worker

# Per Update: the activities Accord's workflow runs, in order ("deliver" in background).
LIFECYCLE: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("submit", ("plan_review", "persist", "deliver")),  # submitted: review task opened
    ("technical", ("persist", "deliver")),  # review_step_approved: legal task opened
    (
        "legal",  # review_completed, clearance checks, ip_checks_completed: counsel's task
        ("persist", "deliver", "run_clearance_checks", "persist", "deliver"),
    ),
    ("clear", ("resolve_signatories", "render_document", "persist", "deliver")),  # cleared
    ("sign 1", ("persist", "deliver")),  # signed: the second signatory's task opened
    ("sign 2", ("persist", "render_document", "persist", "deliver")),  # signed, activated
)
DECISIONS = len(LIFECYCLE) - 1


@activity.defn(name="bare_step")
async def bare_step(step: str) -> str:
    return step


@workflow.defn(name="BareAgreement")
class BareAgreement:
    def __init__(self) -> None:
        self._updates = 0
        self._deliveries: list[asyncio.Task[str]] = []
        self._lock = asyncio.Lock()

    @workflow.run
    async def run(self) -> int:
        await workflow.wait_condition(lambda: self._updates == len(LIFECYCLE))
        await workflow.wait_condition(workflow.all_handlers_finished)
        await asyncio.gather(*self._deliveries)
        return self._updates

    @workflow.update
    async def submit(self) -> int:
        return await self._step()

    @workflow.update
    async def decide(self) -> int:
        return await self._step()

    @workflow.update
    async def ping(self) -> int:
        """A bare Update round trip: no activity."""
        return self._updates

    async def _step(self) -> int:
        async with self._lock:
            for name in LIFECYCLE[self._updates][1]:
                call = workflow.execute_activity(
                    bare_step, name, start_to_close_timeout=timedelta(seconds=30)
                )
                if name == "deliver":
                    self._deliveries.append(asyncio.ensure_future(call))
                else:
                    await call
            self._updates += 1
            return self._updates


async def _serve(address: str, task_queue: str) -> None:
    client = await Client.connect(address)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    async with Worker(
        client, task_queue=task_queue, workflows=[BareAgreement], activities=[bare_step]
    ):
        await stop.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="run the baseline's worker")
    parser.add_argument("--address", required=True)
    parser.add_argument("--task-queue", required=True)
    arguments = parser.parse_args()
    asyncio.run(_serve(arguments.address, arguments.task_queue))
    sys.stdout.flush()
    os._exit(0)  # the Temporal runtime can crash interpreter finalization (sdk-python #300)
