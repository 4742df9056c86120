"""What IP clearance shows: its findings, and a counsel's dismissal of one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from workflows.core.fields import Reason


class FindingOut(BaseModel):
    id: str
    round: int
    kind: str
    severity: str
    subject: str
    summary: str
    evidence: dict[str, Any]
    status: str = Field(description="open | dismissed (a screening hit judged a false positive)")
    dismissal_reason: str | None
    dismissed_at: datetime | None
    created_at: datetime


class Dismissal(BaseModel):
    reason: Reason = Field(description="Why the screening hit is a false positive")
