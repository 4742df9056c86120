"""Footprint: the worker's memory with many open agreements, and the history of a long one.

    .venv/bin/python -m bench.footprint memory [--agreements 10000] [--database sqlite]
    .venv/bin/python -m bench.footprint history [--years 10] [--history-limits 10000,300]

memory: Accord's worker and API run as processes on a Temporal dev server; N agreements
are submitted over HTTP and left waiting on their first review task. The worker's
resident memory is sampled as they accumulate. The baseline is the bare worker
(`bench.baseline`) with as many bare workflows waiting on their next Update.

history: on Temporal's time-skipping test server, one license runs to `active` and
through `--years` of quarterly reports, each submitted on time, to completion. Prints
the events of every run of the workflow (continue-as-new starts a new run past
ACCORD_HISTORY_LIMIT events): the largest run is what a worker replays; the total is
what one run would hold without continue-as-new.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

from temporalio.client import Client, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from bench.baseline import BareAgreement
from bench.harness import (
    BIN,
    accord,
    drive,
    fresh_database,
    license_proposal,
    machine,
    processes,
    rss_mib,
    seed,
    start_temporal,
    timed,
)


async def memory(args: argparse.Namespace) -> None:
    print(f"machine: {machine()}; database: {args.database}; agreements: {args.agreements}")
    samples = sorted({0, *range(1000, args.agreements, 1000), args.agreements})
    with processes("footprint") as procs:
        address = await start_temporal(procs)
        async with fresh_database(args.database, procs.workdir) as database_url:
            tokens = await seed(database_url, procs.workdir)
            async with accord(
                procs, database_url=database_url, temporal_address=address, tokens=tokens
            ) as app:
                worker = app.worker_pids[0]
                ours: dict[int, float] = {}
                submitted = 0
                started = time.perf_counter()

                async def submit(n: int) -> None:
                    nonlocal submitted
                    await timed(
                        {},
                        "submit",
                        app.users["officer"].post("/v1/proposals", json=license_proposal(n)),
                    )
                    submitted += 1

                for low, high in itertools.pairwise(samples):
                    ours[low] = rss_mib(worker)[0]
                    await drive(high - low, 50, submit)
                    rate = submitted / (time.perf_counter() - started)
                    print(
                        f"  {submitted:>6} open agreements ({rate:.1f}/s submitted); worker RSS"
                        f" {rss_mib(worker)[0]:.0f} MiB",
                        flush=True,
                    )
                await asyncio.sleep(5)
                ours[args.agreements] = rss_mib(worker)[0]
                ours_peak = rss_mib(worker)[1]

            procs.start(
                "baseline-worker",
                [
                    sys.executable,
                    "-m",
                    "bench.baseline",
                    "--address",
                    address,
                    "--task-queue",
                    "bare",
                ],
            )
            client = await Client.connect(address)
            bare: dict[int, float] = {}
            handles: list[WorkflowHandle[BareAgreement, int]] = []

            async def start(_: int) -> None:
                handle = await client.start_workflow(
                    BareAgreement.run, id=f"bare-{uuid.uuid4()}", task_queue="bare"
                )
                await handle.execute_update(BareAgreement.submit)
                handles.append(handle)

            await asyncio.sleep(2)
            for low, high in itertools.pairwise(samples):
                bare[low] = rss_mib(procs.pid("baseline-worker"))[0]
                await drive(high - low, 50, start)
            await asyncio.sleep(5)
            bare[args.agreements] = rss_mib(procs.pid("baseline-worker"))[0]
            bare_peak = rss_mib(procs.pid("baseline-worker"))[1]

    print("\n== Worker resident memory (MiB) by open agreements waiting on a task")
    print(f"  {'open':>7}  {'Accord':>8}  {'baseline':>8}  ratio")
    for count in samples:
        ratio = ours[count] / bare[count]
        print(f"  {count:>7}  {ours[count]:8.0f}  {bare[count]:8.0f}  {ratio:5.2f}")
    print(f"  peak     {ours_peak:8.0f}  {bare_peak:8.0f}")


async def history(args: argparse.Namespace) -> None:
    # The in-process stack the tests use: worker and API on the given Temporal client.
    from services.config import Settings
    from services.store.session import create_engine
    from tests.factories import eventually, obligations, proposal, skip_time, to_active
    from tests.stack import running_stack

    print(f"machine: {machine()}; {args.years} years of quarterly reports, on time")
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(BIN / "temporal-test-server"),
        data_converter=pydantic_data_converter,
    )
    workdir = Path(tempfile.mkdtemp(prefix="accord-history-"))
    results: dict[int, list[int]] = {}
    try:
        async with fresh_database("sqlite", workdir) as database_url:
            tokens = await seed(database_url, workdir)
            engine = create_engine(database_url)
            for limit in args.history_limits:
                async with running_stack(
                    Settings(database_url=database_url, update_timeout_seconds=120),
                    env.client,
                    engine,
                    tokens,
                    history_limit=limit,
                ) as stack:
                    terms = {
                        "exclusive": False,
                        "territories": ["DE"],
                        "term_months": 12 * args.years,
                        "reporting_period_months": 3,
                    }
                    active = await to_active(stack, proposal(terms=terms))
                    started = time.perf_counter()
                    for number in range(1, 4 * args.years + 1):
                        await skip_time(env, timedelta(days=80 if number == 1 else 91))
                        owed = {
                            o["name"].split(" (")[0]: o
                            for o in await obligations(stack, active["id"])
                            if o["status"] == "open"
                        }
                        task = owed[f"Report {number}"]["task_id"]
                        report = {"narrative": f"Quarter {number}.", "income": "100.00"}
                        await timed(
                            {},
                            "report",
                            stack.actor("officer").post(
                                f"/v1/tasks/{task}/decision",
                                json={"outcome": "submit", "report": report},
                            ),
                        )
                        if number % 8 == 0:
                            print(f"  limit {limit}: year {number // 4} reported", flush=True)
                    await skip_time(env, timedelta(days=40))

                    async def completed(agreement_id: str = active["id"]) -> str | None:
                        path = f"/v1/agreements/{agreement_id}"
                        status = (await stack.actor("admin").get(path)).json()["status"]
                        return str(status) if status == "completed" else None

                    status = await eventually(completed, within=120, what="completion")
                    results[limit] = await _run_lengths(stack.client, active["workflow_id"])
                    print(
                        f"  limit {limit}: {status} after "
                        f"{time.perf_counter() - started:.0f} s of skipping",
                        flush=True,
                    )
            await engine.dispose()
    finally:
        await env.shutdown()

    print(f"\n== History of one agreement over {args.years} years of quarterly reports")
    for limit, lengths in results.items():
        print(
            f"  ACCORD_HISTORY_LIMIT={limit}: {len(lengths)} run(s); events per run: "
            f"largest {max(lengths)}, total {sum(lengths)} "
            f"(each run: {', '.join(map(str, lengths))})"
        )


async def _run_lengths(client: Client, workflow_id: str) -> list[int]:
    """Events in every run of the workflow, first run first, following continue-as-new."""
    lengths: list[int] = []
    run_id: str | None = None
    while True:
        handle = client.get_workflow_handle(workflow_id, run_id=run_id)
        events = (await handle.fetch_history()).events
        lengths.append(len(events))
        started = events[0].workflow_execution_started_event_attributes
        run_id = started.continued_execution_run_id
        if not run_id:
            return lengths[::-1]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    modes = parser.add_subparsers(dest="mode", required=True)
    mem = modes.add_parser("memory", help="worker memory with many open agreements")
    mem.add_argument("--agreements", type=int, default=10_000)
    mem.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    hist = modes.add_parser("history", help="history length of a long-running agreement")
    hist.add_argument("--years", type=int, default=10)
    hist.add_argument(
        "--history-limits",
        type=lambda s: [int(v) for v in s.split(",")],
        default=[1000, 300],
        help="ACCORD_HISTORY_LIMIT values to run with",
    )
    arguments = parser.parse_args()
    asyncio.run(memory(arguments) if arguments.mode == "memory" else history(arguments))
    sys.stdout.flush()
    os._exit(0)  # the Temporal runtime can crash interpreter finalization (sdk-python #300)
