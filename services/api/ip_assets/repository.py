"""Queries and writes of the IP asset registry."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from services.api.errors import invalid_field
from services.api.filters import matches_text
from services.api.ip_assets.schemas import (
    AssetCreate,
    AssetDetail,
    AssetSummary,
    FundingOut,
    InventorOut,
    LicenseIn,
    LicenseOut,
)
from services.api.pagination import decode_cursor, encode_cursor
from services.store import IpAsset, IpLicense
from services.store.base import utcnow


@dataclass(frozen=True)
class AssetFilters:
    status: str | None = None
    jurisdiction: str | None = None
    text: str | None = None


async def get_asset(
    session: AsyncSession, identifier: str, *, with_licenses: bool = False
) -> IpAsset | None:
    stmt = select(IpAsset).where(IpAsset.identifier == identifier)
    if with_licenses:
        stmt = stmt.options(selectinload(IpAsset.licenses))
    return await session.scalar(stmt)


async def identifier_taken(session: AsyncSession, identifier: str) -> bool:
    found = await session.scalar(select(IpAsset.id).where(IpAsset.identifier == identifier))
    return found is not None


def add_asset(session: AsyncSession, body: AssetCreate, created_by: str) -> IpAsset:
    """Stage a new asset; the caller flushes (a duplicate identifier fails there)."""
    now = utcnow()
    asset = IpAsset(
        identifier=body.identifier,
        asset_type=body.asset_type,
        title=body.title,
        jurisdiction=body.jurisdiction,
        status=body.status,
        owner=body.owner,
        filed_on=body.filed_on,
        expires_on=body.expires_on,
        inventors=[i.model_dump(mode="json") for i in body.inventors],
        funding=[f.model_dump(mode="json") for f in body.funding],
        created_by=created_by,
        created_at=now,
        updated_at=now,
    )
    session.add(asset)
    return asset


def add_license(session: AsyncSession, asset_id: str, body: LicenseIn) -> IpLicense:
    """Stage a license recorded by hand: in force, and granted by no Accord agreement."""
    license_ = IpLicense(
        asset_id=asset_id,
        licensee=body.licensee,
        exclusive=body.exclusive,
        field_of_use=body.field_of_use,
        territories=list(body.territories),
        starts_on=body.starts_on,
        ends_on=body.ends_on,
        active=True,
        agreement_id=None,
        created_at=utcnow(),
    )
    session.add(license_)
    return license_


def license_out(license_: IpLicense) -> LicenseOut:
    return LicenseOut(
        id=license_.id,
        licensee=license_.licensee,
        exclusive=license_.exclusive,
        field_of_use=license_.field_of_use,
        territories=list(license_.territories or []),
        starts_on=license_.starts_on,
        ends_on=license_.ends_on,
        active=license_.active,
        agreement_id=license_.agreement_id,
        created_at=license_.created_at,
    )


def _summary_fields(asset: IpAsset) -> dict[str, object]:
    return dict(
        id=asset.id,
        identifier=asset.identifier,
        asset_type=asset.asset_type,
        title=asset.title,
        jurisdiction=asset.jurisdiction,
        status=asset.status,
        owner=asset.owner,
        filed_on=asset.filed_on,
        expires_on=asset.expires_on,
        inventors=[InventorOut.model_validate(i) for i in asset.inventors or []],
        funding=[FundingOut.model_validate(f) for f in asset.funding or []],
        created_by=asset.created_by,
        created_at=asset.created_at,
        updated_at=asset.updated_at,
    )


def asset_detail(asset: IpAsset, licenses: Iterable[IpLicense]) -> AssetDetail:
    """The asset with its licenses, by start date (as the relationship orders them)."""
    ordered = sorted(licenses, key=lambda lic: (lic.starts_on, lic.created_at, lic.id))
    return AssetDetail(**_summary_fields(asset), licenses=[license_out(lic) for lic in ordered])


async def list_assets(
    session: AsyncSession,
    filters: AssetFilters,
    *,
    cursor: str | None,
    limit: int,
) -> tuple[list[AssetSummary], str | None]:
    """By identifier, keyset-paginated on it (it is unique)."""
    stmt = select(IpAsset)
    if filters.status:
        stmt = stmt.where(IpAsset.status == filters.status)
    if filters.jurisdiction:
        stmt = stmt.where(IpAsset.jurisdiction == filters.jurisdiction)
    if filters.text:
        stmt = stmt.where(
            matches_text(filters.text, IpAsset.identifier, IpAsset.title, IpAsset.owner)
        )
    if cursor is not None:
        (last_identifier,) = decode_cursor(cursor, 1)
        if "\x00" in last_identifier:
            raise invalid_field(("query", "cursor"), "not a cursor this API returned", cursor)
        stmt = stmt.where(IpAsset.identifier > last_identifier)
    assets = list(await session.scalars(stmt.order_by(IpAsset.identifier).limit(limit + 1)))
    items = [AssetSummary(**_summary_fields(a)) for a in assets[:limit]]
    next_cursor = encode_cursor(items[-1].identifier) if len(assets) > limit else None
    return items, next_cursor
