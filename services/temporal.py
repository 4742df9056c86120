"""One way to reach Temporal, shared by the API, the worker and the tests, and the weekly
portfolio Schedule. Light on purpose: the API imports it; the worker itself is built in
`services.workers.worker`."""

from __future__ import annotations

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

from services.config import Settings
from workflows.portfolio import PORTFOLIO_SCHEDULE_ID, PortfolioReportWorkflow


async def connect_temporal(settings: Settings, *, lazy: bool = False) -> Client:
    """A client; `lazy` connects on first use, so a process can start before Temporal."""
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
        lazy=lazy,
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
