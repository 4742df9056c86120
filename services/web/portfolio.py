"""The portfolio dashboard: the portfolio report's figures as charts, with downloads."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.deps import get_session
from services.api.reports import endpoints as reports_api
from services.reports.figures import charts_of
from services.reports.models import PortfolioReport
from services.store import Role
from services.web.auth import Viewer, require_role, viewer
from services.web.rendering import humanize, page

router = APIRouter(include_in_schema=False)

READERS = (Role.ADMIN, Role.PROGRAM_OFFICER, Role.IP_COUNSEL)


@router.get("/portfolio")
async def dashboard(
    request: Request,
    who: Viewer = Depends(viewer),
    session: AsyncSession = Depends(get_session),
) -> Response:
    report = await reports_api.portfolio_report(
        response=Response(),
        format_="json",
        accept=None,
        _=require_role(who, *READERS),
        session=session,
    )
    assert isinstance(report, PortfolioReport)
    return page(
        request, "portfolio.html", who, report=report, charts=charts_of(report, label=humanize)
    )


@router.get("/portfolio.{extension}")
async def download(
    extension: Literal["csv", "html"],
    who: Viewer = Depends(viewer),
    session: AsyncSession = Depends(get_session),
) -> Response:
    """The report as the API renders it: CSV to download, or the standalone HTML page."""
    rendered = await reports_api.portfolio_report(
        response=Response(),
        format_=extension,
        accept=None,
        _=require_role(who, *READERS),
        session=session,
    )
    assert isinstance(rendered, Response)
    if extension == "html":
        rendered.headers["Content-Disposition"] = 'attachment; filename="portfolio.html"'
    return rendered
