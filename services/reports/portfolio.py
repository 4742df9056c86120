"""The portfolio report, as its callers (API, web app, CLI, weekly mail) import it.

Built by `queries.build_portfolio` (days per stage in `durations`), typed in `models`,
rendered by `renderers`; `figures` holds the arithmetic on stage time and the charts'
series.
"""

from services.reports.figures import (
    Stint,
    charts_of,
    percentile,
    stage_days,
    stage_of,
    stage_stints,
)
from services.reports.models import (
    Licensing,
    MonthFigures,
    OverdueAssignee,
    PortfolioReport,
    StageStats,
)
from services.reports.queries import build_portfolio
from services.reports.renderers import portfolio_csv, portfolio_html, portfolio_text

__all__ = [
    "Licensing",
    "MonthFigures",
    "OverdueAssignee",
    "PortfolioReport",
    "StageStats",
    "Stint",
    "build_portfolio",
    "charts_of",
    "percentile",
    "portfolio_csv",
    "portfolio_html",
    "portfolio_text",
    "stage_days",
    "stage_of",
    "stage_stints",
]
