"""The portfolio report as CSV, plain text and a standalone HTML page.

The page is the Jinja2 template templates/portfolio.html (autoescaped); its charts are
the `bar_chart` macro of templates/charts.html, which the web dashboard draws with too
(`TEMPLATE_LOADER` is how both environments find these templates).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, PrefixLoader, StrictUndefined

from services.reports.figures import charts_of
from services.reports.models import Licensing, PortfolioReport

TEMPLATE_DIR = Path(__file__).parent / "templates"
# The report's templates by the names "reports/<file>", in any environment that loads
# them (the web app's loads them beside its own).
TEMPLATE_LOADER = PrefixLoader({"reports": FileSystemLoader(TEMPLATE_DIR)})

Row = Sequence[object]


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _number(value: float | int | Decimal | None) -> str:
    """A figure as every rendering prints it: floats to two decimals, None as ""."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


_ENV = Environment(loader=TEMPLATE_LOADER, autoescape=True, undefined=StrictUndefined)
_ENV.filters.update(utc=_utc)


# --- The rows the text and the HTML tables share --------------------------------------


def _stage_rows(report: PortfolioReport, missing: str) -> list[Row]:
    """Per stage: median and 90th percentile days (`missing` when none left it), how many
    agreements left it and how many are in it now."""
    return [
        (
            s.stage,
            _number(s.median_days) or missing,
            _number(s.p90_days) or missing,
            s.finished,
            s.current,
        )
        for s in report.stages
    ]


def _overdue_rows(report: PortfolioReport) -> list[Row]:
    return [
        (o.name, o.type, o.count, o.oldest_due_at.strftime("%Y-%m-%d"))
        for o in report.overdue_tasks
    ]


def _month_rows(report: PortfolioReport) -> list[Row]:
    return [(m.month, m.executed, m.obligations_met) for m in report.monthly]


def _licensing_rows(licensing: Licensing) -> list[Row]:
    return [
        ("Licenses executed", _number(licensing.licenses_executed)),
        ("Options executed", _number(licensing.options_executed)),
        ("Exclusive", _number(licensing.exclusive)),
        ("Non-exclusive", _number(licensing.non_exclusive)),
        ("Active licenses", _number(licensing.active_licenses)),
        ("Reported income (all currencies)", _number(licensing.income_total)),
    ]


def _income_rows(licensing: Licensing) -> list[Row]:
    return [(currency, _number(total)) for currency, total in licensing.income_by_currency.items()]


# --- CSV ------------------------------------------------------------------------------


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(text: str) -> str:
    """A name as a spreadsheet shows it, never as a formula it would run."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def portfolio_csv(report: PortfolioReport) -> str:
    """One flat table, columns section,key,metric,value; empty value: not available."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["section", "key", "metric", "value"])
    rows: list[tuple[str, str, str, str]] = [
        ("report", "all", "generated_at", report.generated_at.isoformat()),
        ("report", "all", "scope", _cell(report.scope)),
        ("report", "all", "agreements", _number(report.agreements)),
    ]
    rows += [("status", k, "agreements", _number(v)) for k, v in report.by_status.items()]
    rows += [("kind", k, "agreements", _number(v)) for k, v in report.by_kind.items()]
    rows += [("country", k, "agreements", _number(v)) for k, v in report.by_country.items()]
    for stage in report.stages:
        rows += [
            ("stage", stage.stage, "finished", _number(stage.finished)),
            ("stage", stage.stage, "median_days", _number(stage.median_days)),
            ("stage", stage.stage, "p90_days", _number(stage.p90_days)),
            ("stage", stage.stage, "current", _number(stage.current)),
        ]
    for assignee in report.overdue_tasks:
        key = _cell(assignee.name or assignee.id)
        rows += [
            ("overdue_tasks", key, "assignee_type", assignee.type),
            ("overdue_tasks", key, "count", _number(assignee.count)),
            ("overdue_tasks", key, "oldest_due_at", assignee.oldest_due_at.isoformat()),
        ]
    for month in report.monthly:
        rows += [
            ("monthly", month.month, "executed", _number(month.executed)),
            ("monthly", month.month, "obligations_met", _number(month.obligations_met)),
        ]
    licensing = report.licensing
    rows += [
        ("licensing", "all", metric, _number(getattr(licensing, metric)))
        for metric in (
            "licenses_executed",
            "options_executed",
            "exclusive",
            "non_exclusive",
            "active_licenses",
            "income_total",
        )
    ]
    rows += [
        ("income", currency, "reported_income", _number(total))
        for currency, total in licensing.income_by_currency.items()
    ]
    writer.writerows(rows)
    return out.getvalue()


# --- HTML -----------------------------------------------------------------------------


def portfolio_html(report: PortfolioReport) -> str:
    """A standalone page: inline CSS and SVG charts, no script, no external assets."""
    return _ENV.get_template("reports/portfolio.html").render(
        report=report,
        charts=charts_of(report),
        stage_rows=_stage_rows(report, missing=""),
        month_rows=_month_rows(report),
        overdue_rows=_overdue_rows(report),
        licensing_rows=_licensing_rows(report.licensing),
        income_rows=_income_rows(report.licensing),
    )


# --- Plain text -----------------------------------------------------------------------


def _numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return text in ("", "n/a")
    return True


def _text_table(headers: Sequence[str], rows: Sequence[Row]) -> list[str]:
    """Columns padded to width; numbers right-aligned, text left-aligned."""
    if not rows:
        return ["  (none)"]
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    right = [all(_numeric(row[i]) for row in cells[1:]) for i in range(len(headers))]

    def line(row: list[str]) -> str:
        padded = [
            cell.rjust(width) if align else cell.ljust(width)
            for cell, width, align in zip(row, widths, right, strict=True)
        ]
        return ("  " + "  ".join(padded)).rstrip()

    rule = "  " + "  ".join("-" * width for width in widths)
    return [line(cells[0]), rule, *(line(row) for row in cells[1:])]


def portfolio_text(report: PortfolioReport) -> str:
    """Aligned plain-text tables, for a terminal or a mail body."""
    lic = report.licensing
    blocks: list[tuple[str, list[str]]] = [
        (
            "Agreements by status",
            _text_table(["Status", "Agreements"], list(report.by_status.items())),
        ),
        ("Agreements by kind", _text_table(["Kind", "Agreements"], list(report.by_kind.items()))),
        (
            "Agreements by party country",
            _text_table(["Country", "Agreements"], list(report.by_country.items())),
        ),
        (
            "Days per stage (agreements that left the stage)",
            _text_table(
                ["Stage", "Median", "P90", "Finished", "Now"], _stage_rows(report, missing="n/a")
            ),
        ),
        (
            "Overdue tasks by assignee",
            _text_table(["Assignee", "Type", "Overdue", "Oldest due"], _overdue_rows(report)),
        ),
        ("Per month", _text_table(["Month", "Executed", "Obligations met"], _month_rows(report))),
        ("Licensing", _text_table(["Metric", "Value"], _licensing_rows(lic))),
        ("Reported income by currency", _text_table(["Currency", "Income"], _income_rows(lic))),
    ]
    title = "Accord portfolio report"
    lines = [
        title,
        "=" * len(title),
        f"Generated {_utc(report.generated_at)}",
        f"Scope: {report.scope}; {report.agreements} agreements",
    ]
    for heading, table in blocks:
        lines += ["", heading, *table]
    return "\n".join(lines) + "\n"
