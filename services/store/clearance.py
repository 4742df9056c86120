"""What the automatic IP checks found on an agreement, and what counsel made of it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from services.store.base import Base


class Finding(Base):
    __tablename__ = "findings"
    __table_args__ = (Index("ix_findings_agreement_round", "agreement_id", "round"),)

    # Given by the workflow (workflow.uuid4), so a retried write is recognised.
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    agreement_id: Mapped[str] = mapped_column(ForeignKey("agreements.id", ondelete="CASCADE"))
    round: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict[str, Any]]
    screening_entry_id: Mapped[str | None] = mapped_column(String(100))
    party_key: Mapped[str | None] = mapped_column(String(300))
    # open | dismissed (a screening hit counsel marked a false positive)
    status: Mapped[str] = mapped_column(String(16), default="open")
    dismissed_by: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    dismissal_reason: Mapped[str | None] = mapped_column(Text)
    dismissed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
