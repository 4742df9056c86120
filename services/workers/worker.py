"""The worker: every workflow, and every stage's activities, on one task queue.

Only the worker process, the tests' stack and the benchmarks import this: the stages
bring the PDF renderer (fpdf2) and the fuzzy matcher (rapidfuzz) with them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.worker import Worker

from services.config import Settings
from services.mail import Mailer
from services.store.session import write_gate
from services.workers.clearance.activities import ClearanceActivities
from services.workers.core.activities import TransitionActivities
from services.workers.failures import ReadableFailures
from services.workers.portfolio.activities import PortfolioActivities
from services.workers.review.activities import ReviewActivities
from services.workers.signature.activities import SignatureActivities
from workflows.agreement import AgreementWorkflow
from workflows.portfolio import PortfolioReportWorkflow

MAX_CONCURRENT_ACTIVITIES = 20


class Stage(Protocol):
    """An activity class (of a stage, the core or the portfolio report): it lists its own."""

    def activities(self) -> list[Callable[..., Any]]: ...


def worker_stages(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, mailer: Mailer
) -> list[Stage]:
    """Every stage's activities, as the worker process runs them."""
    # One gate for every writer of the process, as when they were one class: on SQLite
    # writers queue on it rather than in SQLite's busy handler (services.store.session).
    gate = write_gate(sessions.kw["bind"])
    return [
        TransitionActivities(sessions, mailer, gate=gate),
        ReviewActivities(sessions, settings),
        ClearanceActivities(sessions, settings),
        SignatureActivities(sessions, gate=gate),
        PortfolioActivities(sessions, mailer),
    ]


def build_worker(client: Client, task_queue: str, stages: Iterable[Stage]) -> Worker:
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[AgreementWorkflow, PortfolioReportWorkflow],
        activities=[activity for stage in stages for activity in stage.activities()],
        # An activity's start-to-close timeout (30 s) runs from when this worker takes
        # it. Taking more than the process can run in that time (the SDK's default is
        # 100) made activities time out at saturation and run again; the rest wait on
        # the server's queue, where no timeout runs (docs/performance.md).
        max_concurrent_activities=MAX_CONCURRENT_ACTIVITIES,
        interceptors=[ReadableFailures()],
        graceful_shutdown_timeout=timedelta(seconds=10),
    )
