"""The portfolio's arithmetic, apart from the database and from any rendering.

Stage time (which stage a status belongs to, an agreement's stints, its days per stage),
the percentile the report's stage durations use, and the series its charts draw.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import NamedTuple

from services.reports.models import PortfolioReport
from workflows.core.statuses import STAGES, AgreementStatus

STAGE_OF: dict[str, str] = {status.value: status.stage for status in AgreementStatus}
# The stages whose durations are reported: every stage but "closed", which never ends.
TIMED_STAGES = tuple(stage for stage in STAGES if stage != "closed")
DAY_SECONDS = 86400.0


# --- Stage time -----------------------------------------------------------------------


def stage_of(status: str) -> str:
    """The lifecycle stage of a status; "unknown" for a status this code does not know."""
    return STAGE_OF.get(status, "unknown")


class Stint(NamedTuple):
    """An uninterrupted time in one stage; `ended_at` is None while it lasts."""

    stage: str
    started_at: datetime
    ended_at: datetime | None


def stage_stints(changes: Iterable[tuple[str, datetime]]) -> Iterator[Stint]:
    """The stints of one agreement, from its events' (to_status, at) in seq order.

    Events that stay in the stage (reminders, votes, in_review -> changes_requested)
    continue the stint they fall in.
    """
    stage: str | None = None
    since: datetime | None = None
    for status, at in changes:
        entered = stage_of(status)
        if entered == stage:
            continue
        if stage is not None and since is not None:
            yield Stint(stage, since, at)
        stage, since = entered, at
    if stage is not None and since is not None:
        yield Stint(stage, since, None)


def _days(start: datetime, end: datetime) -> float:
    return max((end - start).total_seconds(), 0.0) / DAY_SECONDS


def _in_stage_order(days: dict[str, float]) -> dict[str, float]:
    order = {stage: index for index, stage in enumerate(STAGES)}
    return {stage: days[stage] for stage in sorted(days, key=lambda s: order.get(s, len(order)))}


def stage_days(changes: Iterable[tuple[str, datetime]], now: datetime) -> dict[str, float]:
    """Days spent in each stage, in lifecycle order, unrounded.

    The current stage counts up to `now`; a stage visited twice sums its stints. Time
    since closing is not counted: "closed" has no duration.
    """
    days: dict[str, float] = {}
    for stint in stage_stints(changes):
        if stint.stage == "closed":
            continue
        days[stint.stage] = days.get(stint.stage, 0.0) + _days(
            stint.started_at, stint.ended_at or now
        )
    return _in_stage_order(days)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100), interpolating linearly between the closest ranks.

    The same definition as numpy's default and spreadsheets' PERCENTILE.INC: the median
    of [1, 2, 3, 4] is 2.5 and the 90th percentile of 1..10 is 9.1. None for no values.
    """
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0..100, not {q}")
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def rounded(value: float | None) -> float | None:
    """Days as the report gives them: to two decimals."""
    return None if value is None else round(value, 2)


# --- Chart series ---------------------------------------------------------------------


class Chart(NamedTuple):
    """A horizontal bar chart: its title, its bars (label, value; None: not available) and
    the values' unit. The `bar_chart` macro of templates/charts.html draws it."""

    title: str
    bars: list[tuple[str, float | None]]
    unit: str = ""


class Charts(NamedTuple):
    """Every chart of the portfolio, in the dashboard's order. The mailed and downloaded
    report draws three of them (`by_status`, `stage_medians`, `executed`) between its
    tables; the dashboard draws them all."""

    by_status: Chart
    by_kind: Chart
    by_country: Chart
    stage_medians: Chart
    executed: Chart
    overdue: Chart


def charts_of(report: PortfolioReport, label: Callable[[str], str] = str) -> Charts:
    """The report's charts; `label` words each bar's label (the dashboard humanizes)."""

    def bars(pairs: Iterable[tuple[str, float | None]]) -> list[tuple[str, float | None]]:
        return [(label(name), value) for name, value in pairs]

    return Charts(
        by_status=Chart("Agreements by status", bars(report.by_status.items())),
        by_kind=Chart("Agreements by kind", bars(report.by_kind.items())),
        by_country=Chart("Agreements by party country", bars(report.by_country.items())),
        stage_medians=Chart(
            "Median days per stage", bars((s.stage, s.median_days) for s in report.stages), " d"
        ),
        executed=Chart(
            "Agreements executed per month", bars((m.month, m.executed) for m in report.monthly)
        ),
        overdue=Chart(
            "Overdue tasks by assignee", bars((o.name, o.count) for o in report.overdue_tasks)
        ),
    )
