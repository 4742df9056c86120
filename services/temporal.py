"""One way to reach Temporal, shared by the API, the worker and the tests."""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker

from services.config import Settings
from services.workers.activities import AgreementActivities
from workflows.agreement import AgreementWorkflow


async def connect_temporal(settings: Settings, *, lazy: bool = False) -> Client:
    """A client; `lazy` connects on first use, so a process can start before Temporal."""
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
        lazy=lazy,
    )


def build_worker(client: Client, task_queue: str, activities: AgreementActivities) -> Worker:
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[AgreementWorkflow],
        activities=[
            activities.plan_review,
            activities.persist_transition,
            activities.deliver_notifications,
            activities.run_clearance_checks,
            activities.resolve_signatories,
            activities.render_document,
        ],
        graceful_shutdown_timeout=timedelta(seconds=10),
    )
