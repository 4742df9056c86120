"""How the workflow calls its activities: by name (it imports no I/O code), with the
retry policy each kind of call needs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy

T = TypeVar("T")

PERSIST_TRANSITION = "persist_transition"
DELIVER_NOTIFICATIONS = "deliver_notifications"
ACTIVITIES = (PERSIST_TRANSITION, DELIVER_NOTIFICATIONS)

# Writes (and reads the workflow depends on) retry until the database is back; only a
# non-retryable error stops them.
WRITE_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=30)
)
DELIVERY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    maximum_interval=timedelta(minutes=10),
    maximum_attempts=12,
)


async def call(name: str, argument: Any, result_type: type[T]) -> T:
    """Run an activity that must succeed: 30 s an attempt, retried until it does."""
    result: T = await workflow.execute_activity(
        name,
        argument,
        result_type=result_type,
        start_to_close_timeout=timedelta(seconds=30),
        retry_policy=WRITE_RETRY,
    )
    return result
