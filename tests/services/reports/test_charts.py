"""One chart macro for the mailed or downloaded report and the web dashboard."""

from __future__ import annotations

from typing import Any

from services.reports.figures import charts_of
from services.reports.renderers import portfolio_html
from services.web.rendering import TEMPLATES, humanize
from tests.services.api.test_reports import sample_report


def bar_chart(*args: Any, **kwargs: Any) -> str:
    """The macro as the web app's environment finds it, beside its own templates."""
    return str(TEMPLATES.env.get_template("reports/charts.html").module.bar_chart(*args, **kwargs))


def test_the_report_and_the_dashboard_draw_charts_with_one_macro() -> None:
    report = sample_report()
    drawn = bar_chart(charts_of(report).stage_medians)
    assert drawn in portfolio_html(report)
    assert drawn.count("<rect") == 2
    assert 'width="380.0"' in drawn and 'width="0.0"' in drawn  # review 2.5 d, active n/a
    assert "2.50 d" in drawn and ">n/a<" in drawn and "n/a d" not in drawn

    fluid = bar_chart(charts_of(report, label=humanize).by_status, fluid=True)
    assert fluid.startswith('<figure class="chart"><figcaption>Agreements by status')
    assert 'width="100%"' in fluid and "font-family" not in fluid
    assert ">In review<" in fluid and 'class="bar"' in fluid


def test_a_chart_without_bars_says_so_and_escapes_its_text() -> None:
    charts = charts_of(sample_report())
    empty = bar_chart(charts.by_status._replace(bars=[]))
    assert "No data" in empty and "<rect" not in empty
    overdue = bar_chart(charts.overdue)
    assert "&lt;b&gt;Legal &amp; Co&lt;/b&gt;" in overdue and "<b>" not in overdue
