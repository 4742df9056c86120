"""The IP asset registry and the licenses already granted on each asset.

Reference data: the API writes it (counsel and admins maintain the registry); the
clearance checks read it. Licenses granted by Accord agreements are recorded here too,
by the projection, when the agreement becomes active.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from services.store.base import Base, IdMixin, JSONDocument, utcnow


class IpAsset(IdMixin, Base):
    __tablename__ = "ip_assets"

    identifier: Mapped[str] = mapped_column(String(100), unique=True)
    asset_type: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(300))
    jurisdiction: Mapped[str] = mapped_column(String(8))
    # pending | granted | expired | abandoned
    status: Mapped[str] = mapped_column(String(16))
    owner: Mapped[str] = mapped_column(String(200))
    filed_on: Mapped[date | None]
    expires_on: Mapped[date | None]
    # [{"name": ..., "assignment_recorded": bool}]
    inventors: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument)
    # [{"source": "government" | "sponsor", "agency": ..., "award_number": ...}]
    funding: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument)
    created_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    licenses: Mapped[list[IpLicense]] = relationship(
        lazy="raise", order_by="IpLicense.starts_on", back_populates="asset"
    )


class IpLicense(IdMixin, Base):
    """A license granted on an asset: from the registry, or by an active agreement."""

    __tablename__ = "ip_licenses"
    __table_args__ = (Index("ix_ip_licenses_asset_active", "asset_id", "active"),)

    asset_id: Mapped[str] = mapped_column(ForeignKey("ip_assets.id", ondelete="CASCADE"))
    licensee: Mapped[str] = mapped_column(String(200))
    exclusive: Mapped[bool] = mapped_column(Boolean)
    # None: every field of use
    field_of_use: Mapped[str | None] = mapped_column(Text)
    # ISO country codes; ["WW"] is worldwide
    territories: Mapped[list[str]] = mapped_column(JSONDocument)
    starts_on: Mapped[date]
    ends_on: Mapped[date | None]
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    agreement_id: Mapped[str | None] = mapped_column(
        ForeignKey("agreements.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    asset: Mapped[IpAsset] = relationship(lazy="raise", back_populates="licenses")
