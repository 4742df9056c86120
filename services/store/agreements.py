"""The agreement projection and its append-only event log (written by activities only)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from services.store.base import Base, IdMixin, JSONDocument


class Agreement(IdMixin, Base):
    __tablename__ = "agreements"
    __table_args__ = (
        UniqueConstraint("officer_id", "idempotency_key"),
        # The list is newest first, keyset-paginated on (created_at, id): each filter
        # has an index that yields its rows in that order (docs/reads-at-scale.md).
        Index("ix_agreements_created_at_id", "created_at", "id"),
        Index("ix_agreements_status_created_at_id", "status", "created_at", "id"),
        Index("ix_agreements_officer_created_at_id", "officer_id", "created_at", "id"),
        Index("ix_agreements_kind_created_at_id", "kind", "created_at", "id"),
    )

    workflow_id: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    summary: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(32))
    officer_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    ip_assets: Mapped[list[str]] = mapped_column(JSONDocument)
    terms: Mapped[dict[str, Any]]
    signatories: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument, default=list)
    export_control: Mapped[dict[str, Any] | None]
    estimated_value: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    currency: Mapped[str] = mapped_column(String(3))
    revision: Mapped[int] = mapped_column(Integer, default=0)
    policy_version: Mapped[str | None] = mapped_column(String(64))
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    request_hash: Mapped[str | None] = mapped_column(String(64))
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    # After IP clearance: the conditions counsel set, carried into the document.
    conditions: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    # The document in force: the draft under signature, then the signed copy.
    document_id: Mapped[str | None] = mapped_column(String(36))
    document_sha256: Mapped[str | None] = mapped_column(String(64))
    effective_at: Mapped[datetime | None]
    ends_at: Mapped[datetime | None]
    overdue_obligations: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    status_changed_at: Mapped[datetime]

    parties: Mapped[list[AgreementParty]] = relationship(
        lazy="raise", cascade="all, delete-orphan", order_by="AgreementParty.position"
    )


class AgreementParty(Base):
    __tablename__ = "agreement_parties"
    __table_args__ = (Index("ix_agreement_parties_country_agreement", "country", "agreement_id"),)

    agreement_id: Mapped[str] = mapped_column(
        ForeignKey("agreements.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    role: Mapped[str] = mapped_column(String(32))


# The predicates of the partial indexes on agreement_events: a query that repeats one
# verbatim (see services/reports/durations.py and queries.py) can use its index.
STATUS_CHANGES = "from_status IS NULL OR from_status <> to_status"
ACTIVATIONS = "type = 'activated'"


class AgreementEvent(Base):
    """One row per state change: who, what, when, from which status to which."""

    __tablename__ = "agreement_events"
    __table_args__ = (
        UniqueConstraint("agreement_id", "seq"),
        # The portfolio's stage durations read only the status changes, in seq order:
        # from this index alone (an index-only scan on PostgreSQL).
        Index(
            "ix_agreement_events_status_changes",
            "agreement_id",
            "seq",
            "to_status",
            "created_at",
            postgresql_where=text(STATUS_CHANGES),
            sqlite_where=text(STATUS_CHANGES),
        ),
        # Activations, for the portfolio's executions per month and licensing counts.
        Index(
            "ix_agreement_events_activations",
            "agreement_id",
            "created_at",
            postgresql_where=text(ACTIVATIONS),
            sqlite_where=text(ACTIVATIONS),
        ),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    agreement_id: Mapped[str] = mapped_column(ForeignKey("agreements.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    type: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
