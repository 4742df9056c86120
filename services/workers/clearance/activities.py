"""The clearance stage's activity: the automatic IP checks and restricted-party screening."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from services.config import Settings
from services.store import Group
from services.workers.clearance.ip_checks import asset_findings, export_control_findings
from services.workers.clearance.screening import screening_findings
from workflows.clearance.messages import ClearanceCheck, ClearanceReport
from workflows.clearance.stage import RUN_CLEARANCE_CHECKS


class ClearanceActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self._sessions = sessions
        self._settings = settings

    def activities(self) -> list[Callable[..., Any]]:
        return [self.run_clearance_checks]

    @activity.defn(name=RUN_CLEARANCE_CHECKS)
    async def run_clearance_checks(self, check: ClearanceCheck) -> ClearanceReport:
        """The automatic IP checks: assets, licenses, funding, export control, screening."""
        proposal = check.proposal
        async with self._sessions() as session:
            counsel = await session.scalar(
                select(Group.id).where(Group.slug == self._settings.ip_counsel_group)
            )
            if counsel is None:
                raise ApplicationError(
                    f"no group '{self._settings.ip_counsel_group}' for IP counsel"
                    " (ACCORD_IP_COUNSEL_GROUP); create it, the check retries",
                    type="ConfigurationError",
                )
            findings = await asset_findings(session, proposal, check.agreement_id)
            findings += export_control_findings(proposal)
            screening = await screening_findings(
                session, proposal.parties, self._settings.screening_threshold
            )
        versions = {f.evidence.get("list_version") for f in screening} - {None}
        return ClearanceReport(
            findings=findings + screening,
            counsel_group_id=counsel,
            screening_list=next(iter(versions), None),
        )
