"""The IP asset registry in the browser: find, view, add, edit, and record licenses."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.deps import get_session
from services.api.filters import NO_NUL
from services.api.ip_assets import endpoints as assets_api
from services.api.ip_assets.schemas import (
    AssetCreate,
    AssetDetail,
    AssetStatus,
    AssetType,
    AssetUpdate,
    FundingSource,
    LicenseIn,
)
from services.store import Role
from services.web.auth import Viewer, form_viewer, recover, require_role, viewer
from services.web.forms import choice, nested, rows, shown_rows, words
from services.web.rendering import REFUSALS, FormErrors, page, redirect

router = APIRouter(include_in_schema=False)

MAINTAINERS = (Role.IP_COUNSEL, Role.ADMIN)


def _choices() -> dict[str, Any]:
    return {
        "asset_types": list(AssetType),
        "asset_statuses": list(AssetStatus),
        "funding_sources": list(FundingSource),
    }


@router.get("/ip-assets")
async def asset_list(
    request: Request,
    status: Annotated[str | None, Query(max_length=40)] = None,
    q: Annotated[str | None, Query(max_length=200, pattern=NO_NUL)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    who: Viewer = Depends(viewer),
    session: AsyncSession = Depends(get_session),
) -> Response:
    listing = await assets_api.list_assets(
        status=choice(AssetStatus, status, "status"),
        jurisdiction=None,
        q=q or None,
        cursor=cursor,
        limit=25,
        _=who.user,
        session=session,
    )
    return page(
        request,
        "assets.html",
        who,
        listing=listing,
        filters={"status": status or "", "q": q or ""},
        may_edit=who.user.role in MAINTAINERS,
        **_choices(),
    )


@router.get("/ip-assets/search")
async def asset_search(
    request: Request,
    q: Annotated[str, Query(alias="asset_q", max_length=200, pattern=NO_NUL)] = "",
    who: Viewer = Depends(viewer),
    session: AsyncSession = Depends(get_session),
) -> Response:
    """The proposal form's picker: registered assets matching `q`, as checkboxes."""
    items = []
    if q.strip():
        found = await assets_api.list_assets(
            status=None,
            jurisdiction=None,
            q=q.strip(),
            cursor=None,
            limit=10,
            _=who.user,
            session=session,
        )
        items = found.items
    return page(request, "asset_picks.html", who, items=items, q=q)


def _asset_values(body: dict[str, Any]) -> dict[str, Any]:
    """A posted asset form, shaped as the form shows it again."""
    return {
        **{name: value for name, value in body.items() if isinstance(value, str)},
        "inventors": shown_rows(body.get("inventors")),
        "funding": shown_rows(body.get("funding")),
    }


def _asset_body(form: dict[str, Any]) -> dict[str, Any]:
    body = dict(form)
    inventors = rows(form.get("inventors"))
    if isinstance(inventors, list):
        inventors = [
            {**row, "assignment_recorded": row.get("assignment_recorded") == "on"}
            if isinstance(row, dict)
            else row
            for row in inventors
            if not isinstance(row, dict) or row.get("name")
        ]
    body["inventors"] = inventors
    body["funding"] = rows(form.get("funding"))
    return body


@router.get("/ip-assets/new")
async def new_asset(request: Request, who: Viewer = Depends(viewer)) -> Response:
    require_role(who, *MAINTAINERS)
    return page(
        request,
        "asset_form.html",
        who,
        mode="new",
        values={"inventors": [], "funding": []},
        errors=FormErrors(),
        **_choices(),
    )


@router.post("/ip-assets/new")
async def create_asset(
    request: Request,
    who: Viewer = Depends(form_viewer),
    session: AsyncSession = Depends(get_session),
) -> Response:
    body = _asset_body(nested(await request.form()))
    try:
        created = await assets_api.create_asset(
            body=AssetCreate.model_validate(body),
            user=require_role(who, *MAINTAINERS),
            session=session,
        )
    except REFUSALS as err:
        await recover(session, who)
        errors = FormErrors.of(err)
        return page(
            request,
            "asset_form.html",
            who,
            status_code=errors.status_code,
            mode="new",
            values=_asset_values(body),
            errors=errors,
            **_choices(),
        )
    return redirect(f"/ip-assets/{created.identifier}?done=asset_saved")


async def _asset_page(
    request: Request,
    who: Viewer,
    asset: AssetDetail,
    *,
    errors: dict[str, FormErrors] | None = None,
    posted: dict[str, Any] | None = None,
) -> Response:
    refusals = errors or {}
    status_code = next((e.status_code for e in refusals.values()), 200)
    return page(
        request,
        "asset.html",
        who,
        status_code=status_code,
        asset=asset,
        may_edit=who.user.role in MAINTAINERS,
        refusals=refusals,
        posted=posted or {},
        **_choices(),
    )


@router.get("/ip-assets/{identifier}")
async def asset_page(
    request: Request,
    identifier: str,
    who: Viewer = Depends(viewer),
    session: AsyncSession = Depends(get_session),
) -> Response:
    asset = await assets_api.get_asset(identifier=identifier, _=who.user, session=session)
    return await _asset_page(request, who, asset)


@router.post("/ip-assets/{identifier}")
async def edit_asset(
    request: Request,
    identifier: str,
    who: Viewer = Depends(form_viewer),
    session: AsyncSession = Depends(get_session),
) -> Response:
    """Save the edit form: only the fields whose value changed are sent."""
    asset = await assets_api.get_asset(identifier=identifier, _=who.user, session=session)
    body = _asset_body(nested(await request.form()))
    current = asset.model_dump(mode="json")
    changes = {
        name: body.get(name)
        for name in ("title", "owner", "status", "expires_on", "inventors", "funding")
        if body.get(name) != current.get(name)
    }

    async def command() -> None:
        await assets_api.update_asset(
            identifier=identifier,
            body=AssetUpdate.model_validate(changes),
            _=require_role(who, *MAINTAINERS),
            session=session,
        )

    return await _save(
        request, who, session, asset, "edit", _asset_values(body), command, "asset_saved"
    )


@router.post("/ip-assets/{identifier}/licenses")
async def add_license(
    request: Request,
    identifier: str,
    who: Viewer = Depends(form_viewer),
    session: AsyncSession = Depends(get_session),
) -> Response:
    asset = await assets_api.get_asset(identifier=identifier, _=who.user, session=session)
    form = nested(await request.form())
    body = {
        **form,
        "exclusive": form.get("exclusive") == "on",
        "territories": words(form.get("territories")),
    }

    async def command() -> None:
        await assets_api.record_license(
            identifier=identifier,
            body=LicenseIn.model_validate(body),
            _=require_role(who, *MAINTAINERS),
            session=session,
        )

    posted = {name: value for name, value in form.items() if isinstance(value, str)}
    return await _save(request, who, session, asset, "license", posted, command, "license_recorded")


async def _save(
    request: Request,
    who: Viewer,
    session: AsyncSession,
    asset: AssetDetail,
    form_id: str,
    posted: dict[str, Any],
    command: Callable[[], Awaitable[None]],
    done: str,
) -> Response:
    """Carry out a form of the asset page; a refusal shows the page again beside the form."""
    try:
        await command()
    except REFUSALS as err:
        await recover(session, who)
        return await _asset_page(
            request, who, asset, errors={form_id: FormErrors.of(err)}, posted={form_id: posted}
        )
    return redirect(f"/ip-assets/{asset.identifier}?done={done}")
