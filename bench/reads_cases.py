"""The reads bench/reads.py measures, in the order they run, and the random agreements,
cursors and filter values they ask for.
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.reads_measure import Bench, Scenario
from services.api.pagination import encode_cursor
from services.store import Agreement, AgreementParty


async def picks_from(engine: AsyncEngine, rng: random.Random) -> dict[str, Any]:
    """Random agreements, and what the filters are asked for."""
    async with engine.connect() as connection:
        rows = (
            await connection.execute(
                select(Agreement.id, Agreement.created_at).order_by(func.random()).limit(2000)
            )
        ).all()
        countries = list(
            (
                await connection.execute(
                    select(AgreementParty.country)
                    .group_by(AgreementParty.country)
                    .order_by(func.count().desc())
                    .limit(12)
                )
            ).scalars()
        )
    picked = [(agreement_id, created_at) for agreement_id, created_at in rows]
    rng.shuffle(picked)
    return {
        "ids": [agreement_id for agreement_id, _ in picked],
        "cursors": [encode_cursor(at.isoformat(), agreement_id) for agreement_id, at in picked],
        "countries": countries,
    }


def cases(
    bench: Bench, picks: dict[str, Any], args: argparse.Namespace
) -> list[tuple[str, Callable[[], Awaitable[Scenario]]]]:
    """Each read by name, and what measures it: --requests requests (the portfolio,
    --portfolio-runs) after a few warm-up ones."""
    ids, cursors, countries = picks["ids"], picks["cursors"], picks["countries"]
    statuses = ["in_review", "ip_clearance", "in_signature", "active", "completed", "rejected"]
    kinds = ["license", "option", "research_collaboration", "material_transfer"]
    terms = ["graphene", "Helio", "vaccine", "2024-0", "zzzz-no-match"]
    n = args.requests

    def pick(values: list[Any]) -> Callable[[int], Any]:
        return lambda i: values[i % len(values)]

    one = pick(ids)
    steps: list[tuple[str, Callable[[], Awaitable[Scenario]]]] = [
        (
            "list",
            lambda: bench.run(
                "list", "admin, newest 50, no filter", "admin", lambda i: "/v1/agreements", n
            ),
        ),
        (
            "list_status",
            lambda: bench.run(
                "list_status",
                f"admin, ?status= one of {statuses}",
                "admin",
                lambda i: f"/v1/agreements?status={statuses[i % len(statuses)]}",
                n,
            ),
        ),
        (
            "list_kind_country",
            lambda: bench.run(
                "list_kind_country",
                f"admin, ?kind= {kinds} x ?country= top 12 countries",
                "admin",
                lambda i: (
                    f"/v1/agreements?kind={kinds[i % len(kinds)]}"
                    f"&country={countries[(i // len(kinds)) % len(countries)]}"
                ),
                n,
            ),
        ),
        (
            "list_officer",
            lambda: bench.run(
                "list_officer",
                "program officer (own agreements only)",
                "officer",
                lambda i: "/v1/agreements",
                n,
            ),
        ),
        (
            "list_q",
            lambda: bench.run(
                "list_q",
                f"admin, free text ?q= one of {terms}",
                "admin",
                lambda i: f"/v1/agreements?q={terms[i % len(terms)]}",
                n,
            ),
        ),
        (
            "list_walk",
            lambda: bench.walk(
                "list_walk",
                f"pages {args.depth // 2 + 1}-{args.depth} following next_cursor "
                "(no filter / status=active / kind=license)",
                "admin",
                ["limit=50", "status=active", "kind=license"],
                args.depth,
                n,
            ),
        ),
        (
            "list_deep",
            lambda: bench.run(
                "list_deep",
                "the page after a random agreement (cursor anywhere in the set)",
                "admin",
                lambda i: f"/v1/agreements?cursor={cursors[i % len(cursors)]}",
                n,
            ),
        ),
        (
            "detail",
            lambda: bench.run(
                "detail",
                "admin, a random agreement",
                "admin",
                lambda i: f"/v1/agreements/{one(i + 1000)}",
                n,
            ),
        ),
        (
            "events",
            lambda: bench.run(
                "events",
                "admin, a random agreement's timeline",
                "admin",
                lambda i: f"/v1/agreements/{one(i + 1500)}/events",
                n,
            ),
        ),
        (
            "inbox_reviewer",
            lambda: bench.run(
                "inbox_reviewer",
                "Rita (technical + finance review), ?assignee=me",
                "reviewer1",
                lambda i: "/v1/tasks?assignee=me",
                n,
            ),
        ),
        (
            "inbox_admin",
            lambda: bench.run(
                "inbox_admin",
                "Ada (admin, finance review), ?assignee=me",
                "admin",
                lambda i: "/v1/tasks?assignee=me",
                n,
            ),
        ),
        (
            "tasks_open_admin",
            lambda: bench.run(
                "tasks_open_admin",
                "Ada (admin), every open task: /v1/tasks",
                "admin",
                lambda i: "/v1/tasks",
                n,
            ),
        ),
        (
            "inbox_officer",
            lambda: bench.run(
                "inbox_officer",
                "Olivia (officer), ?assignee=me: her report tasks",
                "officer",
                lambda i: "/v1/tasks?assignee=me",
                n,
            ),
        ),
        (
            "portfolio",
            lambda: bench.run(
                "portfolio",
                "admin, GET /v1/reports/portfolio (JSON)",
                "admin",
                lambda i: "/v1/reports/portfolio",
                args.portfolio_runs,
                warmup=1,
            ),
        ),
    ]
    return steps
