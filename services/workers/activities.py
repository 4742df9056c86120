"""The agreement workflow's activities: every piece of I/O it needs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from services.config import Settings
from services.mail import Mailer
from services.store import AgreementDocument, IpAsset, Notification, Role, User
from services.store.base import utcnow
from services.store.session import write_gate
from services.workers.documents import AssetLine, render_agreement, sha256_of
from services.workers.projection import (
    apply_transition,
    notification_ids_for,
    transition_already_applied,
)
from workflows.agreement import (
    DELIVER_NOTIFICATIONS,
    PERSIST_TRANSITION,
    RENDER_DOCUMENT,
    RESOLVE_SIGNATORIES,
)
from workflows.messages import (
    DocumentRequest,
    PersistedTransition,
    ResolvedSignatory,
    Signatory,
    StoredDocument,
    Transition,
)

log = logging.getLogger(__name__)


class AgreementActivities:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], settings: Settings, mailer: Mailer
    ) -> None:
        self._sessions = sessions
        self._write_gate = write_gate(sessions.kw["bind"])
        self._settings = settings
        self._mailer = mailer

    def activities(self) -> list[Callable[..., Any]]:
        return [
            self.persist_transition,
            self.deliver_notifications,
            self.resolve_signatories,
            self.render_document,
        ]

    @activity.defn(name=RESOLVE_SIGNATORIES)
    async def resolve_signatories(self, signatories: list[Signatory]) -> list[ResolvedSignatory]:
        """The named signatories as users; one who is no longer active cannot be sent it."""
        async with self._sessions() as session:
            users = {
                user.email.lower(): user
                for user in await session.scalars(
                    select(User).where(User.email.in_([s.email for s in signatories]))
                )
            }
        missing = [
            s.email
            for s in signatories
            if s.email not in users
            or not users[s.email].active
            or users[s.email].role not in (Role.SIGNATORY, Role.ADMIN)
        ]
        if missing:
            raise ApplicationError(
                f"these signatories are not active signatory users: {', '.join(missing)}",
                type="SignatoryUnavailable",
                non_retryable=True,
            )
        return [
            ResolvedSignatory(
                user_id=users[s.email].id,
                name=users[s.email].name,
                email=s.email,
                on_behalf_of=s.on_behalf_of,
                order=s.order,
            )
            for s in signatories
        ]

    @activity.defn(name=RENDER_DOCUMENT)
    async def render_document(self, request: DocumentRequest) -> StoredDocument:
        """Render the agreement to PDF and store it; the same content is stored once."""
        identifiers = request.proposal.ip_assets
        async with self._sessions() as session:
            registered = {
                asset.identifier: asset
                for asset in await session.scalars(
                    select(IpAsset).where(IpAsset.identifier.in_(identifiers))
                )
            }
        lines = [_asset_line(identifier, registered.get(identifier)) for identifier in identifiers]
        # Rendering is CPU work: keep the event loop (and the other activities) responsive.
        pdf = await asyncio.to_thread(render_agreement, request, lines)
        digest = sha256_of(pdf)
        kind = "signed" if request.signatures else "draft"
        async with self._write_gate, self._sessions() as session:
            found = await session.scalar(
                select(AgreementDocument.id).where(
                    AgreementDocument.agreement_id == request.agreement_id,
                    AgreementDocument.sha256 == digest,
                )
            )
            if found is None:
                document = AgreementDocument(
                    agreement_id=request.agreement_id,
                    kind=kind,
                    revision=request.revision,
                    sha256=digest,
                    size=len(pdf),
                    content=pdf,
                    created_at=utcnow(),
                )
                session.add(document)
                try:
                    await session.commit()
                    found = document.id
                except IntegrityError:
                    # A concurrent attempt stored the same document first.
                    await session.rollback()
                    found = await session.scalar(
                        select(AgreementDocument.id).where(
                            AgreementDocument.agreement_id == request.agreement_id,
                            AgreementDocument.sha256 == digest,
                        )
                    )
        assert found is not None
        return StoredDocument(document_id=found, kind=kind, sha256=digest, size=len(pdf))

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


def _asset_line(identifier: str, asset: IpAsset | None) -> AssetLine:
    if asset is None:
        return AssetLine(identifier, "", "", "unregistered", "")
    return AssetLine(identifier, asset.title, asset.jurisdiction, asset.status, asset.owner)
