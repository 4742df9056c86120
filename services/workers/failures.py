"""Activity failures a person can read where Temporal shows them.

An activity that raises an unexpected exception fails with its whole cause chain and
traceback. A database error's text carries the statement and its parameters, and the
chain runs through SQLAlchemy and the driver: ~10 KB, which Temporal replaces with
"Failure exceeds size limit" on the pending activity, the one place an operator looks
while it retries. This interceptor logs the full error in the worker and fails the
attempt with its type and first line instead; retries are unchanged.
"""

from __future__ import annotations

import logging
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError, TemporalError
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

log = logging.getLogger(__name__)

# Enough for "OperationalError: (sqlite3.OperationalError) database is locked" or
# asyncpg's "connection was closed in the middle of operation", never a statement dump.
MAX_MESSAGE = 300


def readable(err: BaseException) -> str:
    """The error's type and the first line of its message, cut to `MAX_MESSAGE`."""
    first_line = next(iter(str(err).splitlines()), "")
    text = f"{type(err).__name__}: {first_line}" if first_line else type(err).__name__
    return text if len(text) <= MAX_MESSAGE else text[: MAX_MESSAGE - 1] + "…"


class ReadableFailures(Interceptor):
    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _ReadableFailuresInbound(next)


class _ReadableFailuresInbound(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        try:
            return await super().execute_activity(input)
        except TemporalError:
            raise  # ApplicationError and the SDK's own: already what we mean to say
        except Exception as err:
            info = activity.info()
            log.warning(
                "activity %s attempt %d failed",
                info.activity_type,
                info.attempt,
                exc_info=err,
                extra={"workflow_id": info.workflow_id},
            )
            raise ApplicationError(readable(err), type=type(err).__name__) from None
