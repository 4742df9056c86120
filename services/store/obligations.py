"""What an active agreement obliges: periodic reports and milestones, and what was reported."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from services.store.base import Base, JSONDocument


class Obligation(Base):
    __tablename__ = "obligations"
    __table_args__ = (
        Index("ix_obligations_agreement_due", "agreement_id", "due_at"),
        Index("ix_obligations_status_due", "status", "due_at"),
    )

    # Given by the workflow, so a retried write is recognised.
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    agreement_id: Mapped[str] = mapped_column(ForeignKey("agreements.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    due_at: Mapped[datetime]
    opens_at: Mapped[datetime]
    # pending -> open (its report task exists) -> met | missed
    status: Mapped[str] = mapped_column(String(16))
    overdue: Mapped[bool] = mapped_column(Boolean, default=False)
    task_id: Mapped[str | None] = mapped_column(ForeignKey("tasks.id", ondelete="SET NULL"))
    met_at: Mapped[datetime | None]
    narrative: Mapped[str | None] = mapped_column(Text)
    income: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    units: Mapped[int | None] = mapped_column(Integer)
    sublicenses: Mapped[int | None] = mapped_column(Integer)
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument, default=list)
