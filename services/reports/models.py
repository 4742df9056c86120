"""The portfolio report as data: what the API returns as JSON and the renderers print."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field


class StageStats(BaseModel):
    stage: str
    finished: int = Field(description="Agreements that have left the stage: the sample size")
    median_days: float | None = Field(description="None when no agreement has left the stage")
    p90_days: float | None
    current: int = Field(description="Agreements in the stage now")


class OverdueAssignee(BaseModel):
    type: Literal["user", "group"]
    id: str
    name: str
    count: int
    oldest_due_at: datetime


class MonthFigures(BaseModel):
    month: str = Field(description="YYYY-MM, UTC")
    executed: int = Field(description="Agreements that became active in the month")
    obligations_met: int


class Licensing(BaseModel):
    """In the manner of the AUTM licensing survey."""

    licenses_executed: int = Field(description="Licenses that became active")
    options_executed: int = Field(description="Options that became active")
    exclusive: int = Field(description="Executed licenses and options granting exclusivity")
    non_exclusive: int
    active_licenses: int = Field(description="Licenses active now")
    income_total: Decimal = Field(
        description="Reported income over every obligation, summed across currencies"
    )
    income_by_currency: dict[str, Decimal] = Field(description="By the agreement's currency")


class PortfolioReport(BaseModel):
    generated_at: datetime
    scope: str = Field(description='"all", or the filter the report was built with')
    agreements: int
    by_status: dict[str, int] = Field(description="Every status, in lifecycle order")
    by_kind: dict[str, int]
    by_country: dict[str, int] = Field(
        description="Agreements with a party in the country; one agreement counts once per "
        "distinct country among its parties"
    )
    stages: list[StageStats]
    overdue_tasks: list[OverdueAssignee] = Field(
        description="By assignee; most overdue tasks first, then the oldest due date"
    )
    monthly: list[MonthFigures] = Field(description="Oldest month first")
    licensing: Licensing
