"""The active term: the obligations an agreement owes."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Depends
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.agreements.endpoints import readable
from services.api.auth import current_user
from services.api.deps import get_session
from services.api.errors import documented
from services.api.term.repository import obligations_of
from services.api.term.schemas import ObligationOut
from services.store import User

router = APIRouter(prefix="/v1", tags=["agreements"], responses=documented(401))


@router.get(
    "/agreements/{agreement_id}/obligations",
    response_model=list[ObligationOut],
    responses=documented(403, 404),
)
async def list_obligations(
    agreement_id: UUID,
    user: User = Depends(current_user),
    session: AsyncSession = Depends(get_session),
) -> list[ObligationOut]:
    """Reports and milestones the active agreement owes, by due date, with what was reported."""
    await readable(session, user, agreement_id)
    return await obligations_of(session, str(agreement_id))
