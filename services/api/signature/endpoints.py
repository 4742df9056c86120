"""Signature: the agreement's document, the draft under signature and then the signed copy."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Depends, Response
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.agreements.endpoints import readable
from services.api.auth import current_user
from services.api.deps import get_session
from services.api.errors import NotFound, documented
from services.store import AgreementDocument, User

router = APIRouter(prefix="/v1", tags=["agreements"], responses=documented(401))


@router.get(
    "/agreements/{agreement_id}/document",
    response_class=Response,
    responses={
        200: {"content": {"application/pdf": {}}, "description": "The agreement as a PDF"},
        **documented(403, 404, s404="No such agreement, or no document yet"),
    },
)
async def get_document(
    agreement_id: UUID,
    user: User = Depends(current_user),
    session: AsyncSession = Depends(get_session),
) -> Response:
    """The document in force: the draft under signature, then the signed copy."""
    agreement = await readable(session, user, agreement_id)
    if agreement.document_id is None:
        raise NotFound("the agreement has no document yet; it is rendered after IP clearance")
    document = await session.get_one(AgreementDocument, agreement.document_id)
    return Response(
        document.content,
        media_type="application/pdf",
        headers={
            "ETag": f'"{document.sha256}"',
            "X-Document-SHA256": document.sha256,
            "Content-Disposition": (
                f'inline; filename="agreement-{agreement.id}-{document.kind}.pdf"'
            ),
        },
    )
