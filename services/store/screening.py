"""Restricted-party screening: the loaded list, and the false positives counsel cleared."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.store.base import Base, IdMixin, JSONDocument, utcnow


class ScreeningList(IdMixin, Base):
    """One load of a screening list; the newest is the one in force."""

    __tablename__ = "screening_lists"

    # SHA-256 of the loaded file
    version: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(500))
    entry_count: Mapped[int] = mapped_column(Integer)
    loaded_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class ScreeningEntry(Base):
    """An entry in the format of the US Consolidated Screening List."""

    __tablename__ = "screening_entries"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    source: Mapped[str] = mapped_column(String(200))
    type: Mapped[str | None] = mapped_column(String(50))
    name: Mapped[str] = mapped_column(Text)
    alt_names: Mapped[list[str]] = mapped_column(JSONDocument)
    programs: Mapped[list[str]] = mapped_column(JSONDocument)
    # [{"address": ..., "city": ..., "country": "RU", ...}]
    addresses: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument)


class ScreeningClearance(IdMixin, Base):
    """A hit counsel judged a false positive: not raised again for this party and entry."""

    __tablename__ = "screening_clearances"
    __table_args__ = (UniqueConstraint("party_key", "entry_id"),)

    party_key: Mapped[str] = mapped_column(String(300))
    entry_id: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text)
    decided_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    agreement_id: Mapped[str | None] = mapped_column(
        ForeignKey("agreements.id", ondelete="SET NULL")
    )
    finding_id: Mapped[str | None] = mapped_column(String(36))
    decided_at: Mapped[datetime]
