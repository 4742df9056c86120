"""The rendered agreement documents and the signatures given on them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.store.base import Base, IdMixin


class AgreementDocument(IdMixin, Base):
    """An immutable PDF, addressed by its hash: a re-render of the same content is a no-op."""

    __tablename__ = "agreement_documents"
    __table_args__ = (UniqueConstraint("agreement_id", "sha256"),)

    agreement_id: Mapped[str] = mapped_column(ForeignKey("agreements.id", ondelete="CASCADE"))
    # draft (what signatories sign) | signed (with the signature page)
    kind: Mapped[str] = mapped_column(String(16))
    revision: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]


class Signature(IdMixin, Base):
    """Who signed, when, from where, and the hash of the document they saw."""

    __tablename__ = "signatures"
    __table_args__ = (UniqueConstraint("task_id"),)

    agreement_id: Mapped[str] = mapped_column(
        ForeignKey("agreements.id", ondelete="CASCADE"), index=True
    )
    task_id: Mapped[str] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    on_behalf_of: Mapped[str] = mapped_column(String(200))
    order: Mapped[int] = mapped_column(Integer)
    document_sha256: Mapped[str] = mapped_column(String(64))
    ip_address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(Text)
    signed_at: Mapped[datetime]
