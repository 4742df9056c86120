"""The activities of every stage: a transition written once, and the mail it sends."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from services.mail import Mailer
from services.store import Notification
from services.store.base import utcnow
from services.store.session import write_gate
from services.workers.core.projection import (
    apply_transition,
    notification_ids_for,
    transition_already_applied,
)
from workflows.core.activities import DELIVER_NOTIFICATIONS, PERSIST_TRANSITION
from workflows.core.transition import PersistedTransition, Transition

log = logging.getLogger(__name__)


class TransitionActivities:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        mailer: Mailer,
        *,
        gate: AbstractAsyncContextManager[Any] | None = None,
    ) -> None:
        self._sessions = sessions
        # The process's writers share one gate (services.workers.worker.worker_stages).
        self._write_gate = gate if gate is not None else write_gate(sessions.kw["bind"])
        self._mailer = mailer

    def activities(self) -> list[Callable[..., Any]]:
        return [self.persist_transition, self.deliver_notifications]

    @activity.defn(name=PERSIST_TRANSITION)
    async def persist_transition(self, transition: Transition) -> PersistedTransition:
        """Write one transition once, whatever the number of attempts."""
        async with self._write_gate, self._sessions() as session:
            if await transition_already_applied(session, transition.key):
                ids = await notification_ids_for(session, transition.key)
                return PersistedTransition(seq=transition.seq, notification_ids=ids)
            try:
                ids = await apply_transition(session, transition)
                await session.commit()
            except DataError as err:
                # The database refuses the values themselves: retrying cannot help.
                raise ApplicationError(
                    f"transition {transition.key} holds values the database refuses: {err.orig}",
                    type="ProjectionDataError",
                    non_retryable=True,
                ) from err
            except IntegrityError as err:
                await session.rollback()
                if await transition_already_applied(session, transition.key):
                    # A concurrent attempt of the same transition committed first.
                    ids = await notification_ids_for(session, transition.key)
                    return PersistedTransition(seq=transition.seq, notification_ids=ids)
                raise ApplicationError(
                    f"transition {transition.key} violates a constraint: {err.orig}",
                    type="ProjectionConflict",
                    non_retryable=True,
                ) from err
        return PersistedTransition(seq=transition.seq, notification_ids=ids)

    @activity.defn(name=DELIVER_NOTIFICATIONS)
    async def deliver_notifications(self, notification_ids: list[str]) -> None:
        """Send pending outbox rows by e-mail, recording each outcome as soon as it is known."""
        async with self._sessions() as session:
            pending = list(
                await session.scalars(
                    select(Notification)
                    .where(Notification.id.in_(notification_ids), Notification.status == "pending")
                    .order_by(Notification.id)
                )
            )
        # No transaction stays open while mail is sent: a slow SMTP server holds no lock.
        if not self._mailer.configured:
            await self._record(
                [n.id for n in pending],
                attempted=False,
                status="not_sent",
                last_error="no SMTP server configured",
            )
            for notification in pending:
                log.info(
                    "notification %s to %s: %s",
                    notification.kind,
                    notification.recipient_email,
                    notification.subject,
                )
            return
        for notification in pending:
            try:
                await self._mailer.send(self._mailer.compose(notification))
            except OSError as err:
                await self._record([notification.id], last_error=f"{type(err).__name__}: {err}")
                raise
            await self._record([notification.id], status="sent", sent_at=utcnow(), last_error=None)

    async def _record(
        self, notification_ids: list[str], *, attempted: bool = True, **values: object
    ) -> None:
        if attempted:
            values["attempts"] = Notification.attempts + 1
        async with self._write_gate, self._sessions() as session:
            await session.execute(
                update(Notification).where(Notification.id.in_(notification_ids)).values(**values)
            )
            await session.commit()
