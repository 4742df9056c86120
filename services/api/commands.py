"""Sends commands to agreement workflows as Temporal Updates and maps refusals to HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from services.api.deps import get_session, get_settings_dep, get_temporal
from services.api.errors import AccordError, Conflict, Pending, Unavailable, invalid_field
from services.config import Settings
from workflows.agreement import AgreementWorkflow
from workflows.clearance.messages import FindingDismissal
from workflows.core.commands import (
    CommandRejected,
    Reassignment,
    RevisionCommand,
    TerminationCommand,
    UpdateResult,
    WithdrawalCommand,
)
from workflows.core.state import AgreementInput, AgreementStart
from workflows.decisions import Decision

T = TypeVar("T")

_CONFLICTS = {
    CommandRejected.TASK_NOT_OPEN,
    CommandRejected.ALREADY_DECIDED,
    CommandRejected.WRONG_STATUS,
    CommandRejected.NOT_SUBMITTED,
    CommandRejected.STALE_DOCUMENT,
    CommandRejected.FINDING_NOT_OPEN,
    CommandRejected.SIGNATORY_UNAVAILABLE,
    CommandRejected.CRITICAL_FINDINGS,
}


def workflow_id_for(agreement_id: str) -> str:
    return f"agreement-{agreement_id}"


class AgreementCommands:
    """The API's only way to change an agreement."""

    def __init__(self, client: Client, settings: Settings, session: AsyncSession) -> None:
        self._client = client
        self._settings = settings
        self._session = session

    async def submit(self, start: AgreementStart) -> UpdateResult | None:
        """Start the workflow and store the agreement in one step (update-with-start).

        Returns None when a workflow with this id already ran to its end: an
        idempotent retry whose first answer is in the database.
        """
        operation = WithStartWorkflowOperation(
            AgreementWorkflow.run,
            AgreementInput(start=start),
            id=workflow_id_for(start.agreement_id),
            task_queue=self._settings.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
        )
        # No fixed update id: the server would answer a retry after a failed run with
        # that run's failure instead of starting a new one. `submit` is idempotent, so
        # concurrent retries on a running workflow get the same agreement anyway.
        try:
            return await self._send(
                self._client.execute_update_with_start_workflow(
                    AgreementWorkflow.submit, start_workflow_operation=operation
                )
            )
        except WorkflowAlreadyStartedError:
            return None

    async def decide(self, agreement_id: str, command: Decision) -> UpdateResult:
        handle = self._client.get_workflow_handle(workflow_id_for(agreement_id))
        return await self._send(handle.execute_update(AgreementWorkflow.decide, command))

    async def revise(self, agreement_id: str, command: RevisionCommand) -> UpdateResult:
        handle = self._client.get_workflow_handle(workflow_id_for(agreement_id))
        return await self._send(handle.execute_update(AgreementWorkflow.revise, command))

    async def reassign(self, agreement_id: str, command: Reassignment) -> UpdateResult:
        handle = self._client.get_workflow_handle(workflow_id_for(agreement_id))
        return await self._send(handle.execute_update(AgreementWorkflow.reassign, command))

    async def withdraw(self, agreement_id: str, command: WithdrawalCommand) -> UpdateResult:
        handle = self._client.get_workflow_handle(workflow_id_for(agreement_id))
        return await self._send(handle.execute_update(AgreementWorkflow.withdraw, command))

    async def dismiss_finding(self, agreement_id: str, command: FindingDismissal) -> UpdateResult:
        handle = self._client.get_workflow_handle(workflow_id_for(agreement_id))
        return await self._send(handle.execute_update(AgreementWorkflow.dismiss_finding, command))

    async def terminate(self, agreement_id: str, command: TerminationCommand) -> UpdateResult:
        handle = self._client.get_workflow_handle(workflow_id_for(agreement_id))
        return await self._send(handle.execute_update(AgreementWorkflow.terminate, command))

    async def _send(self, update: Awaitable[T]) -> T:
        # End the request's read transaction and forget what it loaded: the workflow is
        # about to write these rows, and the read that follows must see its writes (an
        # open SQLite snapshot, or the identity map, would show the old ones).
        await self._session.commit()
        self._session.expire_all()
        try:
            return await asyncio.wait_for(update, self._settings.update_timeout_seconds)
        except WorkflowUpdateFailedError as err:
            raise _refusal(err) from err
        except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError) as err:
            raise Pending(
                "the agreement's workflow did not confirm the command in time; it may still be"
                " applied: read the agreement before you retry"
            ) from err
        except RuntimeError as err:
            # A lazy client that cannot reach the server raises a bare RuntimeError.
            if not str(err).startswith("Failed client connect"):
                raise
            raise Unavailable("the workflow service is unreachable; try again shortly") from err
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                raise Conflict(
                    "the agreement's workflow has ended; it takes no more commands"
                ) from err
            raise Unavailable(f"the workflow service is unavailable: {err.message}") from err


def agreement_commands(
    client: Client = Depends(get_temporal),
    settings: Settings = Depends(get_settings_dep),
    session: AsyncSession = Depends(get_session),
) -> AgreementCommands:
    """The request's command gateway: the dependency every command endpoint and page takes."""
    return AgreementCommands(client, settings, session)


def _refusal(err: WorkflowUpdateFailedError) -> AccordError | Exception:
    cause = err.cause
    if isinstance(cause, ApplicationError):
        if cause.type in _CONFLICTS:
            return Conflict(cause.message)
        if cause.type == CommandRejected.INVALID_OUTCOME:
            return invalid_field(("body", "outcome"), cause.message, None)
        if cause.type in (CommandRejected.INVALID_ASSIGNEE, CommandRejected.INVALID_DATA):
            return invalid_field(("body",), cause.message, None)
    message = getattr(cause, "message", None) or str(err)
    return Unavailable(f"the command could not be applied: {message}")
