"""The notification outbox: rows written with the transition, delivered by an activity."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.store.base import Base, IdMixin


class Notification(IdMixin, Base):
    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("event_key", "recipient_id", "kind"),
        Index("ix_notifications_recipient_created", "recipient_id", "created_at"),
    )

    event_key: Mapped[str] = mapped_column(String(200))
    agreement_id: Mapped[str] = mapped_column(ForeignKey("agreements.id", ondelete="CASCADE"))
    task_id: Mapped[str | None] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    recipient_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    recipient_email: Mapped[str] = mapped_column(String(254))
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    # pending -> sent, or not_sent when no SMTP server is configured (kept for the in-app inbox)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
