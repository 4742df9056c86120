"""The signature stage's part of a transition: the document in force and the signatures."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.store import Agreement, Signature
from workflows.core.transition import Transition


async def apply_signature(session: AsyncSession, agreement: Agreement, t: Transition) -> None:
    """The document under signature (or signed) and each signature."""
    if t.document is not None:
        agreement.document_id = t.document.document_id
        agreement.document_sha256 = t.document.sha256
    for record in t.signatures:
        session.add(
            Signature(
                agreement_id=t.agreement_id,
                task_id=record.task_id,
                user_id=record.user_id,
                on_behalf_of=record.on_behalf_of,
                order=record.order,
                document_sha256=record.document_sha256,
                ip_address=record.ip_address,
                user_agent=record.user_agent,
                signed_at=record.signed_at,
            )
        )
