"""The weekly portfolio report: a Temporal Schedule starts this workflow, which mails it."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy


class PortfolioMailing(BaseModel):
    """What the weekly portfolio run did."""

    generated_at: datetime
    agreements: int
    recipients: list[str]
    sent: int


MAIL_PORTFOLIO_REPORT = "mail_portfolio_report"
PORTFOLIO_SCHEDULE_ID = "accord-portfolio-weekly"


@workflow.defn(name="PortfolioReport")
class PortfolioReportWorkflow:
    @workflow.run
    async def run(self) -> PortfolioMailing:
        mailing: PortfolioMailing = await workflow.execute_activity(
            MAIL_PORTFOLIO_REPORT,
            workflow.now(),
            result_type=PortfolioMailing,
            start_to_close_timeout=timedelta(minutes=10),
            retry_policy=RetryPolicy(
                initial_interval=timedelta(seconds=5),
                maximum_interval=timedelta(minutes=5),
                maximum_attempts=10,
            ),
        )
        return mailing
