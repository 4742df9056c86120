"""What the active term shows: the obligations it owes, and what was reported for each."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field


class ReportOut(BaseModel):
    narrative: str | None
    income: Decimal | None
    units: int | None
    sublicenses: int | None
    attachments: list[dict[str, Any]]


class ObligationOut(BaseModel):
    id: str
    kind: str
    name: str
    due_at: datetime
    opens_at: datetime
    status: str = Field(description="pending | open | met | missed | cancelled")
    overdue: bool
    task_id: str | None
    met_at: datetime | None
    report: ReportOut | None
