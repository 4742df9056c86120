"""The worker: every workflow and activity on one task queue. Only the worker process,
the tests' stack and the benchmarks import this (it brings fpdf2 and rapidfuzz)."""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import Client
from temporalio.worker import Worker

from services.workers.activities import AgreementActivities
from services.workers.failures import ReadableFailures
from services.workers.reporting import ReportingActivities
from workflows.agreement import AgreementWorkflow
from workflows.portfolio import PortfolioReportWorkflow

MAX_CONCURRENT_ACTIVITIES = 20


def build_worker(
    client: Client,
    task_queue: str,
    activities: AgreementActivities,
    reporting: ReportingActivities,
) -> Worker:
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[AgreementWorkflow, PortfolioReportWorkflow],
        activities=[
            reporting.mail_portfolio_report,
            activities.plan_review,
            activities.persist_transition,
            activities.deliver_notifications,
            activities.run_clearance_checks,
            activities.resolve_signatories,
            activities.render_document,
        ],
        # An activity's start-to-close timeout (30 s) runs from when this worker takes
        # it. Taking more than the process can run in that time (the SDK's default is
        # 100) made activities time out at saturation and run again; the rest wait on
        # the server's queue, where no timeout runs (docs/performance.md).
        max_concurrent_activities=MAX_CONCURRENT_ACTIVITIES,
        interceptors=[ReadableFailures()],
        graceful_shutdown_timeout=timedelta(seconds=10),
    )
