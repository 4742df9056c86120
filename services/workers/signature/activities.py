"""The signature stage's activities: the signatories as users, and the document they sign."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from services.store import AgreementDocument, IpAsset, signing_users
from services.store.base import utcnow
from services.store.session import write_gate
from services.workers.signature.documents import AssetLine, render_agreement, sha256_of
from workflows.core.documents import StoredDocument
from workflows.core.proposal import Signatory
from workflows.signature.messages import DocumentRequest, ResolvedSignatory
from workflows.signature.stage import RENDER_DOCUMENT, RESOLVE_SIGNATORIES


class SignatureActivities:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        gate: AbstractAsyncContextManager[Any] | None = None,
    ) -> None:
        self._sessions = sessions
        # The process's writers share one gate (services.workers.worker.worker_stages).
        self._write_gate = gate if gate is not None else write_gate(sessions.kw["bind"])

    def activities(self) -> list[Callable[..., Any]]:
        return [self.resolve_signatories, self.render_document]

    @activity.defn(name=RESOLVE_SIGNATORIES)
    async def resolve_signatories(self, signatories: list[Signatory]) -> list[ResolvedSignatory]:
        """The named signatories as users; one who is no longer active cannot be sent it."""
        async with self._sessions() as session:
            may_sign = await signing_users(session, [s.email for s in signatories])
        missing = [email for email, user in may_sign.items() if user is None]
        if missing:
            raise ApplicationError(
                f"these signatories are not active signatory users: {', '.join(missing)}",
                type="SignatoryUnavailable",
                non_retryable=True,
            )
        return [
            ResolvedSignatory(
                user_id=user.id,
                name=user.name,
                email=s.email,
                on_behalf_of=s.on_behalf_of,
                order=s.order,
            )
            for s in signatories
            if (user := may_sign[s.email]) is not None
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


def _asset_line(identifier: str, asset: IpAsset | None) -> AssetLine:
    if asset is None:
        return AssetLine(identifier, "", "", "unregistered", "")
    return AssetLine(identifier, asset.title, asset.jurisdiction, asset.status, asset.owner)
