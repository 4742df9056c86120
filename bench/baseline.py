"""The baseline: a bare Temporal workflow with Accord's shape and no database or HTTP.

Per agreement it takes the same messages as Accord's review of a license: update-with-
start running two activities (plan, persist), then two decision updates each running
one activity, after which it ends.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import activity, workflow


@activity.defn(name="bare_step")
async def bare_step(step: str) -> str:
    return step


@workflow.defn(name="BareAgreement")
class BareAgreement:
    def __init__(self) -> None:
        self._submitted = False
        self._decisions = 0
        self._lock = asyncio.Lock()

    @workflow.run
    async def run(self) -> int:
        for step in ("plan", "persist"):
            await workflow.execute_activity(
                bare_step, step, start_to_close_timeout=timedelta(seconds=30)
            )
        self._submitted = True
        await workflow.wait_condition(lambda: self._decisions == 2)
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._decisions

    @workflow.update
    async def submit(self) -> bool:
        await workflow.wait_condition(lambda: self._submitted)
        return True

    @workflow.update
    async def decide(self, outcome: str) -> int:
        async with self._lock:
            await workflow.execute_activity(
                bare_step, outcome, start_to_close_timeout=timedelta(seconds=30)
            )
            self._decisions += 1
            return self._decisions
