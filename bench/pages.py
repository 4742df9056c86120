"""The web app's pages against the JSON they are made of, from one run on one API process.

Each page is timed beside its baseline: the API requests a script would send for the same
data (the agreement page shows what five API reads return). Requests go one at a time from
a signed-in browser session (cookie) and a bearer token, on a service started as
deployed (worker and uvicorn API as their own processes).

    .venv/bin/python -m bench.pages --database sqlite --requests 200
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Sequence

import httpx
from sqlalchemy import select

from bench.harness import (
    Accord,
    Timings,
    accord,
    fresh_database,
    latency_line,
    license_proposal,
    machine,
    percentile,
    processes,
    run_to_active,
    seed,
    start_temporal,
)
from services.config import Settings
from services.store import User
from services.store.session import create_engine, create_session_factory
from services.web.auth import create_sign_in_link


async def _browser(app: Accord, database_url: str, email: str) -> httpx.AsyncClient:
    """A client signed in the way a browser is: a sign-in link, then the session cookie."""
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as session:
            user = await session.scalar(select(User).where(User.email == email))
            assert user is not None
            link = await create_sign_in_link(
                session, Settings(database_url=database_url), user, base_url=app.base_url
            )
            await session.commit()
    finally:
        await engine.dispose()
    client = httpx.AsyncClient(base_url=app.base_url, timeout=60)
    answer = await client.get(link)
    assert answer.status_code == 303, answer.text
    return client


async def _time(client: httpx.AsyncClient, paths: Sequence[str], requests: int) -> list[float]:
    """Seconds per round of `paths` (one after another), `requests` rounds after a warm-up."""
    rounds = []
    for n in range(requests + 10):
        start = time.perf_counter()
        for path in paths:
            answer = await client.get(path)
            assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
        if n >= 10:
            rounds.append(time.perf_counter() - start)
    return rounds


async def main(args: argparse.Namespace) -> None:
    print(f"machine: {machine()}")
    print(f"database: {args.database}; {args.requests} requests per page, one at a time")
    with processes("pages") as procs:
        address = await start_temporal(procs)
        async with fresh_database(args.database, procs.workdir) as database_url:
            tokens = await seed(database_url, procs.workdir)
            async with accord(
                procs, database_url=database_url, temporal_address=address, tokens=tokens
            ) as app:
                timings: Timings = {}
                for n in range(args.agreements):
                    await run_to_active(app, n, timings)
                # A few waiting on review, so the inbox has rows.
                for n in range(5):
                    created = await app.users["officer"].post(
                        "/v1/proposals", json=license_proposal(args.agreements + n)
                    )
                    assert created.status_code == 201, created.text
                listed = await app.users["officer"].get("/v1/agreements", params={"limit": 50})
                active = next(a["id"] for a in listed.json()["items"] if a["status"] == "active")
                officer = await _browser(app, database_url, "olivia.officer@accord.test")
                reviewer = await _browser(app, database_url, "rita.reviewer@accord.test")
                api = f"/v1/agreements/{active}"
                cases = [
                    (
                        "agreement page",
                        officer,
                        [f"/agreements/{active}"],
                        app.users["officer"],
                        [
                            api,
                            f"{api}/status-report",
                            f"{api}/findings",
                            f"{api}/obligations",
                            f"{api}/events",
                        ],
                    ),
                    (
                        "inbox",
                        reviewer,
                        ["/"],
                        app.users["reviewer1"],
                        ["/v1/tasks?assignee=me&limit=200"],
                    ),
                    (
                        "agreement list",
                        officer,
                        ["/agreements"],
                        app.users["officer"],
                        ["/v1/agreements?limit=25"],
                    ),
                ]
                results = []
                for name, page_client, pages, api_client, api_paths in cases:
                    page_times = await _time(page_client, pages, args.requests)
                    api_times = await _time(api_client, api_paths, args.requests)
                    results.append((name, page_times, api_times, len(api_paths)))
                for client in (officer, reviewer):
                    await client.aclose()

    print("\n== Pages against the API requests for the same data (ms per page)")
    for name, page_times, api_times, api_requests in results:
        print(f" {name}:")
        print(latency_line("page", page_times))
        print(latency_line(f"API ({api_requests} request{'s' * (api_requests > 1)})", api_times))
        ratio = percentile(page_times, 0.5) / percentile(api_times, 0.5)
        print(f"  {'p50 ratio page / API':<26} {ratio:.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--requests", type=int, default=200, help="timed requests per page")
    parser.add_argument(
        "--agreements", type=int, default=3, help="agreements driven to active first"
    )
    asyncio.run(main(parser.parse_args()))
    sys.stdout.flush()
    os._exit(0)  # the Temporal runtime can crash interpreter finalization (sdk-python #300)
