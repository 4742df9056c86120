"""The weekly portfolio report: built from SQL, mailed to every active program officer."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from services.mail import Mailer
from services.reports.queries import build_portfolio
from services.reports.renderers import portfolio_html, portfolio_text
from services.store import Role, User
from workflows.portfolio import MAIL_PORTFOLIO_REPORT, PortfolioMailing

log = logging.getLogger(__name__)


class PortfolioActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], mailer: Mailer) -> None:
        self._sessions = sessions
        self._mailer = mailer

    def activities(self) -> list[Callable[..., Any]]:
        return [self.mail_portfolio_report]

    @activity.defn(name=MAIL_PORTFOLIO_REPORT)
    async def mail_portfolio_report(self, as_of: datetime) -> PortfolioMailing:
        """Build the portfolio as of the scheduled time and mail it to program officers."""
        async with self._sessions() as session:
            report = await build_portfolio(session, as_of)
            recipients = list(
                await session.scalars(
                    select(User.email)
                    .where(User.role == Role.PROGRAM_OFFICER, User.active.is_(True))
                    .order_by(User.email)
                )
            )
        subject = f"Accord portfolio report, week of {as_of:%Y-%m-%d}"
        text, html = portfolio_text(report), portfolio_html(report)
        sent = 0
        if not self._mailer.configured:
            log.info("portfolio report for %d officers not mailed: no SMTP", len(recipients))
        else:
            for recipient in recipients:
                # One message each: officers must not see each other's addresses. A retry
                # after a failure resends to those already served (at-least-once, as all mail).
                await self._mailer.send(self._mailer.compose_report(recipient, subject, text, html))
                sent += 1
        return PortfolioMailing(
            generated_at=report.generated_at,
            agreements=report.agreements,
            recipients=recipients,
            sent=sent,
        )
