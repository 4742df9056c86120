"""IP clearance: an agreement's findings, and dismissing a screening hit."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Depends
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.agreements import repository as agreements
from services.api.agreements.endpoints import readable
from services.api.auth import current_user, require_role
from services.api.clearance.repository import finding_out, findings_of
from services.api.clearance.schemas import Dismissal, FindingOut
from services.api.commands import AgreementCommands, agreement_commands
from services.api.deps import get_session, get_settings_dep
from services.api.errors import COMMAND_ERRORS, Conflict, Forbidden, NotFound, documented
from services.config import Settings
from services.store import Finding, Role, User
from workflows.clearance.messages import FindingDismissal

router = APIRouter(prefix="/v1", tags=["agreements"], responses=documented(401))


@router.get(
    "/agreements/{agreement_id}/findings",
    response_model=list[FindingOut],
    responses=documented(403, 404),
)
async def list_findings(
    agreement_id: UUID,
    user: User = Depends(current_user),
    session: AsyncSession = Depends(get_session),
) -> list[FindingOut]:
    """What the IP checks found, every clearance round, most recent and severe first."""
    await readable(session, user, agreement_id)
    return await findings_of(session, str(agreement_id))


@router.post(
    "/agreements/{agreement_id}/findings/{finding_id}/dismissal",
    response_model=FindingOut,
    responses=documented(
        *COMMAND_ERRORS,
        s403="Only IP counsel and admins dismiss findings",
        s409="The finding is not an open screening hit of an agreement in IP clearance",
    ),
)
async def dismiss_finding(
    agreement_id: UUID,
    finding_id: UUID,
    dismissal: Dismissal,
    user: User = Depends(require_role(Role.IP_COUNSEL, Role.ADMIN)),
    session: AsyncSession = Depends(get_session),
    settings: Settings = Depends(get_settings_dep),
    commands: AgreementCommands = Depends(agreement_commands),
) -> FindingOut:
    """Mark a screening hit a false positive: it is not raised again for this party."""
    await readable(session, user, agreement_id)
    finding = await session.get(Finding, str(finding_id))
    if finding is None or finding.agreement_id != str(agreement_id):
        raise NotFound(f"no finding {finding_id} on agreement {agreement_id}")
    if user.role != Role.ADMIN and not await agreements.in_group(
        session, user.id, settings.ip_counsel_group
    ):
        raise Forbidden(f"only members of {settings.ip_counsel_group} dismiss findings")
    if finding.status != "open":
        raise Conflict(f"the finding is already {finding.status}")
    await commands.dismiss_finding(
        str(agreement_id),
        FindingDismissal(finding_id=finding.id, actor_id=user.id, reason=dismissal.reason),
    )
    await session.refresh(finding)
    return finding_out(finding)
