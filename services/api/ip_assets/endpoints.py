"""The IP asset registry: assets and the licenses already granted on them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.auth import current_user, require_role
from services.api.deps import get_session
from services.api.errors import Conflict, NotFound, documented, invalid_field
from services.api.filters import NO_NUL
from services.api.ip_assets import repository
from services.api.ip_assets.schemas import (
    AssetCreate,
    AssetDetail,
    AssetPage,
    AssetStatus,
    AssetUpdate,
    LicenseIn,
    LicenseOut,
)
from services.store import IpAsset, Role, User
from services.store.base import utcnow

router = APIRouter(prefix="/v1/ip-assets", tags=["ip-assets"], responses=documented(401))

# Counsel and admins maintain the registry; everyone signed in may read it.
_maintainer = require_role(Role.IP_COUNSEL, Role.ADMIN)

AssetIdentifier = Annotated[
    str,
    Path(
        min_length=1,
        max_length=200,
        pattern=NO_NUL,
        description="The asset's identifier, e.g. US-11223344-B2",
    ),
]


@router.post(
    "",
    status_code=201,
    response_model=AssetDetail,
    responses=documented(403, 409, s409="An asset with this identifier is registered"),
)
async def create_asset(
    body: AssetCreate,
    user: User = Depends(_maintainer),
    session: AsyncSession = Depends(get_session),
) -> AssetDetail:
    """Register an asset, with the licenses already granted on it."""
    if await repository.identifier_taken(session, body.identifier):
        raise Conflict(f"IP asset {body.identifier} is already registered")
    asset = repository.add_asset(session, body, user.id)
    try:
        await session.flush()
    except IntegrityError:
        # Registered concurrently, between the check and the insert.
        raise Conflict(f"IP asset {body.identifier} is already registered") from None
    licenses = [repository.add_license(session, asset.id, lic) for lic in body.licenses]
    await session.flush()
    return repository.asset_detail(asset, licenses)


@router.get("", response_model=AssetPage)
async def list_assets(
    status: AssetStatus | None = None,
    jurisdiction: Annotated[str | None, Query(pattern=r"^[A-Za-z]{2,8}$")] = None,
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=200,
            pattern=NO_NUL,
            description="Free text in the identifier, title or owner",
        ),
    ] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    _: User = Depends(current_user),
    session: AsyncSession = Depends(get_session),
) -> AssetPage:
    """Registered assets, by identifier."""
    filters = repository.AssetFilters(
        status=status,
        jurisdiction=jurisdiction.upper() if jurisdiction else None,
        text=q,
    )
    items, next_cursor = await repository.list_assets(session, filters, cursor=cursor, limit=limit)
    return AssetPage(items=items, next_cursor=next_cursor)


@router.get("/{identifier}", response_model=AssetDetail, responses=documented(404))
async def get_asset(
    identifier: AssetIdentifier,
    _: User = Depends(current_user),
    session: AsyncSession = Depends(get_session),
) -> AssetDetail:
    """One asset and every license recorded on it."""
    asset = await _asset_or_404(session, identifier)
    return repository.asset_detail(asset, asset.licenses)


@router.patch("/{identifier}", response_model=AssetDetail, responses=documented(403, 404))
async def update_asset(
    identifier: AssetIdentifier,
    body: AssetUpdate,
    _: User = Depends(_maintainer),
    session: AsyncSession = Depends(get_session),
) -> AssetDetail:
    """Change an asset: its status, expiry, inventors' assignments, funding, title, owner."""
    asset = await _asset_or_404(session, identifier)
    changes = body.changes()
    expires_on = changes.get("expires_on", asset.expires_on)
    if expires_on is not None and asset.filed_on is not None and expires_on < asset.filed_on:
        raise invalid_field(
            ("body", "expires_on"),
            f"must not be before filed_on ({asset.filed_on.isoformat()})",
            expires_on.isoformat(),
        )
    for name, value in changes.items():
        setattr(asset, name, value)
    asset.updated_at = utcnow()
    await session.flush()
    return repository.asset_detail(asset, asset.licenses)


@router.post(
    "/{identifier}/licenses",
    status_code=201,
    response_model=LicenseOut,
    responses=documented(403, 404),
)
async def record_license(
    identifier: AssetIdentifier,
    body: LicenseIn,
    _: User = Depends(_maintainer),
    session: AsyncSession = Depends(get_session),
) -> LicenseOut:
    """Record a license already granted on the asset (outside Accord)."""
    asset = await _asset_or_404(session, identifier, with_licenses=False)
    license_ = repository.add_license(session, asset.id, body)
    asset.updated_at = utcnow()
    await session.flush()
    return repository.license_out(license_)


async def _asset_or_404(
    session: AsyncSession, identifier: str, *, with_licenses: bool = True
) -> IpAsset:
    asset = await repository.get_asset(session, identifier, with_licenses=with_licenses)
    if asset is None:
        raise NotFound(f"no IP asset {identifier}")
    return asset
