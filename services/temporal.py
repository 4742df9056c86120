"""One way to reach Temporal, shared by the API, the worker and the tests."""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker

from services.config import Settings
from services.workers.activities import AgreementActivities
from services.workers.failures import ReadableFailures
from services.workers.reporting import ReportingActivities
from workflows.agreement import AgreementWorkflow
from workflows.portfolio import PORTFOLIO_SCHEDULE_ID, PortfolioReportWorkflow


async def connect_temporal(settings: Settings, *, lazy: bool = False) -> Client:
    """A client; `lazy` connects on first use, so a process can start before Temporal."""
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
        lazy=lazy,
    )


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


def portfolio_schedule(settings: Settings, task_queue: str | None = None) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            PortfolioReportWorkflow.run,
            id="portfolio-report",
            task_queue=task_queue or settings.task_queue,
        ),
        spec=ScheduleSpec(cron_expressions=[settings.portfolio_report_cron]),
    )


async def ensure_portfolio_schedule(
    client: Client, settings: Settings, schedule_id: str = PORTFOLIO_SCHEDULE_ID
) -> None:
    """Create the weekly portfolio schedule, or bring an existing one to these settings."""
    schedule = portfolio_schedule(settings)
    try:
        await client.create_schedule(schedule_id, schedule)
    except ScheduleAlreadyRunningError:

        def _update(_: ScheduleUpdateInput) -> ScheduleUpdate:
            return ScheduleUpdate(schedule=schedule)

        await client.get_schedule_handle(schedule_id).update(_update)
