"""The review stage's activity: the review policy resolved into a proposal's steps."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from services.config import Settings
from services.store import Group
from services.workers.review.review_policy import PolicyFileError, ReviewPolicy
from workflows.core.proposal import Proposal
from workflows.review.messages import ReviewPlan, ReviewStep
from workflows.review.stage import PLAN_REVIEW


class ReviewActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self._sessions = sessions
        self._settings = settings
        self._policy: tuple[Path, float, ReviewPolicy] | None = None

    def activities(self) -> list[Callable[..., Any]]:
        return [self.plan_review]

    @activity.defn(name=PLAN_REVIEW)
    async def plan_review(self, proposal: Proposal) -> ReviewPlan:
        """Resolve the review policy into the ordered steps this proposal needs."""
        try:
            policy = self._review_policy()
        except PolicyFileError as err:
            # Retrying cannot mend a broken file: tell the caller now.
            raise ApplicationError(str(err), type="PolicyError", non_retryable=True) from err
        steps = policy.steps_for(proposal)
        if not steps:
            raise ApplicationError(
                f"review policy {policy.version} gives no step for {proposal.kind}",
                type="PolicyError",
                non_retryable=True,
            )
        async with self._sessions() as session:
            groups = dict(
                (
                    await session.execute(
                        select(Group.slug, Group.id).where(Group.slug.in_({s.group for s in steps}))
                    )
                ).all()
            )
        missing = sorted({s.group for s in steps} - groups.keys())
        if missing:
            raise ApplicationError(
                f"review policy {policy.version} names unknown groups: {', '.join(missing)}",
                type="PolicyError",
                non_retryable=True,
            )
        return ReviewPlan(
            policy_version=policy.version,
            steps=[
                ReviewStep(
                    key=s.key,
                    name=s.name,
                    group_id=groups[s.group],
                    group_slug=s.group,
                    approvals_required=s.approvals,
                    sla_seconds=s.sla_hours * 3600,
                )
                for s in steps
            ],
        )

    def _review_policy(self) -> ReviewPolicy:
        path = self._settings.review_policy_file
        mtime = path.stat().st_mtime
        if self._policy is None or self._policy[:2] != (path, mtime):
            self._policy = (path, mtime, ReviewPolicy.load(path))
        return self._policy[2]
