"""Status reports: one agreement's, and the portfolio's."""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Query, Response
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.agreements import repository as agreements
from services.api.auth import current_user, require_role
from services.api.deps import get_session
from services.api.errors import Forbidden, NotFound, documented
from services.api.reports import repository
from services.api.reports.schemas import AgreementStatusReport
from services.reports.models import PortfolioReport
from services.reports.queries import build_portfolio
from services.reports.renderers import portfolio_csv, portfolio_html
from services.store import Role, User
from services.store.base import utcnow

router = APIRouter(prefix="/v1", tags=["reports"], responses=documented(401))

ReportFormat = Literal["json", "csv", "html"]
_MEDIA_TYPES: dict[str, ReportFormat] = {
    "application/json": "json",
    "text/csv": "csv",
    "text/html": "html",
}


@router.get(
    "/agreements/{agreement_id}/status-report",
    response_model=AgreementStatusReport,
    responses=documented(403, 404),
)
async def agreement_status_report(
    agreement_id: UUID,
    user: User = Depends(current_user),
    session: AsyncSession = Depends(get_session),
) -> AgreementStatusReport:
    """Where the agreement stands: timeline, days per stage, pending work, findings,
    obligations and signatures."""
    agreement = await agreements.get_agreement(session, str(agreement_id))
    if agreement is None:
        raise NotFound(f"no agreement {agreement_id}")
    if not agreements.may_read(user, agreement):
        raise Forbidden("program officers may read only their own agreements")
    return await repository.status_report(session, agreement, utcnow())


def negotiate(format_: ReportFormat | None, accept: str | None) -> ReportFormat:
    """The `format` parameter if given, else the most preferred type in Accept, else JSON."""
    if format_ is not None:
        return format_
    offers: list[tuple[float, int, ReportFormat]] = []
    for position, item in enumerate((accept or "").split(",")):
        media_type, *params = (part.strip() for part in item.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        chosen = _MEDIA_TYPES.get(media_type.lower())
        if chosen is not None and quality > 0:
            offers.append((-quality, position, chosen))
    return min(offers)[2] if offers else "json"


@router.get(
    "/reports/portfolio",
    response_model=PortfolioReport,
    responses={
        **documented(403),
        200: {
            "description": "The portfolio report as JSON, CSV or a standalone HTML page",
            "content": {"text/csv": {}, "text/html": {}},
        },
    },
)
async def portfolio_report(
    response: Response,
    format_: Annotated[
        ReportFormat | None,
        Query(alias="format", description="Overrides the Accept header; JSON by default"),
    ] = None,
    accept: Annotated[str | None, Header()] = None,
    _: User = Depends(require_role(Role.ADMIN, Role.PROGRAM_OFFICER, Role.IP_COUNSEL)),
    session: AsyncSession = Depends(get_session),
) -> PortfolioReport | Response:
    """Every agreement: counts, days per stage, overdue work, executions, licensing."""
    chosen = negotiate(format_, accept)
    report = await build_portfolio(session, utcnow())
    headers = {"Vary": "Accept"}
    if chosen == "csv":
        filename = f"portfolio-{report.generated_at:%Y-%m-%d}.csv"
        headers["Content-Disposition"] = f'attachment; filename="{filename}"'
        return Response(portfolio_csv(report), media_type="text/csv", headers=headers)
    if chosen == "html":
        return Response(portfolio_html(report), media_type="text/html", headers=headers)
    response.headers.update(headers)
    return report
