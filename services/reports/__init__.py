"""Reports built from the store, shared by the API, the CLI and scheduled mail.

Nothing here imports FastAPI: callers pass an AsyncSession and get pydantic models
and rendered text back.
"""

from services.reports.portfolio import (
    PortfolioReport,
    build_portfolio,
    percentile,
    portfolio_csv,
    portfolio_html,
    portfolio_text,
    stage_days,
    stage_stints,
)

__all__ = [
    "PortfolioReport",
    "build_portfolio",
    "percentile",
    "portfolio_csv",
    "portfolio_html",
    "portfolio_text",
    "stage_days",
    "stage_stints",
]
