"""The portfolio report and its renderings.

What is where (by status, kind, party country), how long each stage takes, whose tasks
are overdue, what was executed and met month by month, and licensing figures in the
manner of the AUTM licensing survey. Counting is done in SQL (GROUP BY); only the stage
durations are computed here, from one ordered pass over the status-changing events.

Shared by the API, the CLI and the scheduled mail: no FastAPI in this module.
"""

from __future__ import annotations

import csv
import html
import io
import math
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, Field
from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    case,
    cast,
    distinct,
    func,
    literal_column,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Subquery

from services.store import Agreement, AgreementEvent, AgreementParty, Group, Obligation, Task, User
from workflows.messages import (
    STAGES,
    AgreementKind,
    AgreementStatus,
    ObligationStatus,
    TaskStatus,
)

# The stages whose durations are reported: every stage but "closed", which never ends.
TIMED_STAGES = tuple(stage for stage in STAGES if stage != "closed")
ACTIVATED = "activated"
# As a literal, not a parameter: the partial index ix_agreement_events_activations is
# defined by exactly this predicate, and a plan for "type = $1" could not use it.
_ACTIVATION = AgreementEvent.type == literal_column(f"'{ACTIVATED}'")
_DAY = 86400.0


# --- Stage arithmetic (pure) ---------------------------------------------------------


_STAGE_OF: dict[str, str] = {status.value: status.stage for status in AgreementStatus}


def stage_of(status: str) -> str:
    """The lifecycle stage of a status; "unknown" for a status this code does not know."""
    return _STAGE_OF.get(status, "unknown")


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
    return max((end - start).total_seconds(), 0.0) / _DAY


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


def finished_stage_days(changes: Iterable[tuple[str, datetime]]) -> dict[str, float]:
    """Days per stage the agreement has left (summed over its stints in that stage).

    The stage it is in now is left out, even if it was visited before: its time is not
    known yet.
    """
    stints = list(stage_stints(changes))
    if not stints:
        return {}
    current = stints[-1].stage
    days: dict[str, float] = {}
    for stint in stints:
        if stint.ended_at is None or stint.stage in (current, "closed"):
            continue
        days[stint.stage] = days.get(stint.stage, 0.0) + _days(stint.started_at, stint.ended_at)
    return days


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


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


# --- The report ----------------------------------------------------------------------


class StageStats(BaseModel):
    stage: str
    finished: int = Field(description="Agreements that have left the stage: the sample size")
    median_days: float | None = Field(description="None when no agreement has left the stage")
    p90_days: float | None
    current: int = Field(description="Agreements in the stage now")


class OverdueAssignee(BaseModel):
    type: Literal["user", "group"]
    id: str
    name: str
    count: int
    oldest_due_at: datetime


class MonthFigures(BaseModel):
    month: str = Field(description="YYYY-MM, UTC")
    executed: int = Field(description="Agreements that became active in the month")
    obligations_met: int


class Licensing(BaseModel):
    """In the manner of the AUTM licensing survey."""

    licenses_executed: int = Field(description="Licenses that became active")
    options_executed: int = Field(description="Options that became active")
    exclusive: int = Field(description="Executed licenses and options granting exclusivity")
    non_exclusive: int
    active_licenses: int = Field(description="Licenses active now")
    income_total: Decimal = Field(
        description="Reported income over every obligation, summed across currencies"
    )
    income_by_currency: dict[str, Decimal] = Field(description="By the agreement's currency")


class PortfolioReport(BaseModel):
    generated_at: datetime
    scope: str = Field(description='"all", or the filter the report was built with')
    agreements: int
    by_status: dict[str, int] = Field(description="Every status, in lifecycle order")
    by_kind: dict[str, int]
    by_country: dict[str, int] = Field(
        description="Agreements with a party in the country; one agreement counts once per "
        "distinct country among its parties"
    )
    stages: list[StageStats]
    overdue_tasks: list[OverdueAssignee] = Field(description="Most overdue tasks first")
    monthly: list[MonthFigures] = Field(description="Oldest month first")
    licensing: Licensing


@dataclass(frozen=True)
class _Scope:
    officer_id: str | None
    agreement_ids: tuple[str, ...] | None

    def describe(self) -> str:
        parts = []
        if self.officer_id is not None:
            parts.append(f"officer {self.officer_id}")
        if self.agreement_ids is not None:
            parts.append(f"{len(self.agreement_ids)} selected agreements")
        return ", ".join(parts) or "all"

    def agreements(self) -> list[ColumnElement[bool]]:
        """Conditions on a query over (or joined to) the agreements table."""
        conditions: list[ColumnElement[bool]] = []
        if self.agreement_ids is not None:
            conditions.append(Agreement.id.in_(self.agreement_ids))
        if self.officer_id is not None:
            conditions.append(Agreement.officer_id == self.officer_id)
        return conditions

    def on(self, agreement_id: Any) -> list[ColumnElement[bool]]:
        """Conditions on a query over a table that refers to agreements by this column."""
        conditions: list[ColumnElement[bool]] = []
        if self.agreement_ids is not None:
            conditions.append(agreement_id.in_(self.agreement_ids))
        if self.officer_id is not None:
            conditions.append(
                agreement_id.in_(
                    select(Agreement.id).where(Agreement.officer_id == self.officer_id)
                )
            )
        return conditions


async def build_portfolio(
    session: AsyncSession,
    now: datetime,
    *,
    officer_id: str | None = None,
    agreement_ids: Collection[str] | None = None,
) -> PortfolioReport:
    """The portfolio as of `now` (timezone-aware); read-only.

    `officer_id` keeps one officer's agreements; `agreement_ids` a chosen few (it is
    sent as an IN list, so keep it to hundreds).
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    scope = _Scope(officer_id, tuple(agreement_ids) if agreement_ids is not None else None)
    by_status, by_kind, active_licenses = await _status_and_kind(session, scope)
    return PortfolioReport(
        generated_at=now,
        scope=scope.describe(),
        agreements=sum(by_status.values()),
        by_status=by_status,
        by_kind=by_kind,
        by_country=await _by_country(session, scope),
        stages=await _stages(session, scope, by_status),
        overdue_tasks=await _overdue_tasks(session, scope, now),
        monthly=await _monthly(session, scope),
        licensing=await _licensing(session, scope, active_licenses),
    )


async def _status_and_kind(
    session: AsyncSession, scope: _Scope
) -> tuple[dict[str, int], dict[str, int], int]:
    rows = await session.execute(
        select(Agreement.kind, Agreement.status, func.count())
        .where(*scope.agreements())
        .group_by(Agreement.kind, Agreement.status)
    )
    by_status: dict[str, int] = dict.fromkeys(AgreementStatus, 0)
    by_kind: dict[str, int] = dict.fromkeys(AgreementKind, 0)
    active_licenses = 0
    for kind, status, count in rows:
        by_status[status] = by_status.get(status, 0) + count
        by_kind[kind] = by_kind.get(kind, 0) + count
        if kind == AgreementKind.LICENSE and status == AgreementStatus.ACTIVE:
            active_licenses += count
    # StrEnum keys would serialize fine, but plain strings compare and print plainly.
    return (
        {str(k): v for k, v in by_status.items()},
        {str(k): v for k, v in by_kind.items()},
        active_licenses,
    )


async def _by_country(session: AsyncSession, scope: _Scope) -> dict[str, int]:
    rows = await session.execute(
        select(AgreementParty.country, func.count(distinct(AgreementParty.agreement_id)))
        .where(*scope.on(AgreementParty.agreement_id))
        .group_by(AgreementParty.country)
    )
    counted = sorted(((country, count) for country, count in rows), key=lambda r: (-r[1], r[0]))
    return dict(counted)


# Stages as small integers inside SQL: lifecycle order, "unknown" after "closed".
_STAGE_CODE = {stage: code for code, stage in enumerate(STAGES)}
_UNKNOWN_STAGE = len(STAGES)
_QUANTILES = (50, 90)  # median_days, p90_days


def _stage_code(status: Any) -> ColumnElement[int]:
    return case(
        {value: _STAGE_CODE[stage] for value, stage in _STAGE_OF.items()},
        value=status,
        else_=_UNKNOWN_STAGE,
    )


def _seconds_between(session: AsyncSession, start: Any, end: Any) -> ColumnElement[Any]:
    """end - start in seconds, to the microsecond, in the database's own dialect."""
    if session.get_bind().dialect.name == "sqlite":
        # Naive ISO text "YYYY-MM-DD HH:MM:SS.ffffff": whole seconds, then the fraction
        # (julianday() would round to the millisecond).
        whole = cast(func.strftime("%s", end), Integer) - cast(func.strftime("%s", start), Integer)
        return whole + (cast(func.substr(end, 20), Float) - cast(func.substr(start, 20), Float))
    return func.date_part("epoch", end - start)


def _not_negative(session: AsyncSession, value: ColumnElement[Any]) -> ColumnElement[Any]:
    """max(value, 0), computing the value once (SQLite's max() of two is greatest())."""
    if session.get_bind().dialect.name == "sqlite":
        return func.max(value, 0.0)
    return func.greatest(value, 0.0)


async def _stages(
    session: AsyncSession, scope: _Scope, by_status: dict[str, int]
) -> list[StageStats]:
    """Durations of finished stints, as finished_stage_days counts them, in SQL.

    Window functions over the status changes in seq order (the partial index
    ix_agreement_events_status_changes holds exactly those, in that order) give each
    stint's start, end and the agreement's current stage; the days are summed per
    agreement and stage (`finished`), then reduced to percentiles by `_percentiles`.
    The same figures as streaming every status change through Python, which took
    seconds at a million events (docs/reads-at-scale.md).
    """
    changes = (
        select(
            AgreementEvent.agreement_id.label("agreement_id"),
            AgreementEvent.seq.label("seq"),
            AgreementEvent.created_at.label("at"),
            _stage_code(AgreementEvent.to_status).label("stage"),
        )
        .where(
            # Verbatim the predicate of the partial index.
            or_(
                AgreementEvent.from_status.is_(None),
                AgreementEvent.from_status != AgreementEvent.to_status,
            ),
            *scope.on(AgreementEvent.agreement_id),
        )
        .subquery("changes")
    )
    marked = select(
        changes,
        func.lag(changes.c.stage)
        .over(partition_by=changes.c.agreement_id, order_by=changes.c.seq)
        .label("previous"),
    ).subquery("marked")
    stints = (
        select(
            marked.c.agreement_id,
            marked.c.stage,
            marked.c.at.label("started_at"),
            func.lead(marked.c.at)
            .over(partition_by=marked.c.agreement_id, order_by=marked.c.seq, rows=(None, None))
            .label("ended_at"),
            func.last_value(marked.c.stage)
            .over(partition_by=marked.c.agreement_id, order_by=marked.c.seq, rows=(None, None))
            .label("current"),
        )
        # A stint starts where the stage changes: events within a stage continue it.
        .where(or_(marked.c.previous.is_(None), marked.c.previous != marked.c.stage))
        .subquery("stints")
    )
    seconds = _seconds_between(session, stints.c.started_at, stints.c.ended_at)
    finished = (
        select(
            stints.c.stage,
            func.sum(_not_negative(session, seconds) / _DAY).label("days"),
        )
        .where(
            stints.c.ended_at.is_not(None),
            stints.c.stage != stints.c.current,
            stints.c.stage != _STAGE_CODE["closed"],
        )
        .group_by(stints.c.agreement_id, stints.c.stage)
        .subquery("finished")
    )
    percentiles = await _percentiles(session, finished)

    current: dict[str, int] = {}
    for status, count in by_status.items():
        current[stage_of(status)] = current.get(stage_of(status), 0) + count
    stats = []
    for stage in TIMED_STAGES:
        n, median, p90 = percentiles.get(_STAGE_CODE[stage], (0, None, None))
        stats.append(
            StageStats(
                stage=stage,
                finished=n,
                median_days=_rounded(median),
                p90_days=_rounded(p90),
                current=current.get(stage, 0),
            )
        )
    return stats


# Per stage code: how many agreements finished it, the median and the 90th percentile.
_Percentiles = dict[int, tuple[int, float | None, float | None]]


async def _percentiles(session: AsyncSession, finished: Subquery) -> _Percentiles:
    """The percentiles of each stage's durations (the `finished` subquery's days).

    PostgreSQL sorts each stage's values into one array and sends back only the values at
    the ranks `percentile` interpolates between. SQLite runs in this process: its rows
    cost little to fetch, and `percentile` itself is quicker than ranking them with
    window functions.
    """
    if session.get_bind().dialect.name != "postgresql":
        by_stage: dict[int, list[float]] = {}
        for code, value in await session.execute(select(finished.c.stage, finished.c.days)):
            by_stage.setdefault(code, []).append(float(value))
        return {
            code: (len(values), percentile(values, 50), percentile(values, 90))
            for code, values in by_stage.items()
        }
    ordered = type_coerce(
        func.array_agg(aggregate_order_by(finished.c.days, finished.c.days)), ARRAY(Float)
    )
    per_stage = (
        select(finished.c.stage, func.count().label("n"), ordered.label("days"))
        .group_by(finished.c.stage)
        .subquery("per_stage")
    )
    n, days = per_stage.c.n, per_stage.c.days
    picked = []
    for q in _QUANTILES:
        low = (n - 1) * q // 100
        # The values at the lower rank and the one above it (arrays count from 1; past
        # the end reads NULL).
        picked += [days[low + 1], days[low + 2]]
    found: _Percentiles = {}
    for code, count, *read in await session.execute(select(per_stage.c.stage, n, *picked)):
        quantiles = []
        for q, at_low, above in zip(_QUANTILES, read[::2], read[1::2], strict=True):
            rank = (count - 1) * q / 100
            low = math.floor(rank)
            upper = float(above) if rank > low else float(at_low)
            # As `percentile` interpolates between the closest ranks.
            quantiles.append(float(at_low) + (upper - float(at_low)) * (rank - low))
        found[code] = (count, quantiles[0], quantiles[1])
    return found


async def _overdue_tasks(
    session: AsyncSession, scope: _Scope, now: datetime
) -> list[OverdueAssignee]:
    rows = await session.execute(
        select(
            Task.assignee_user_id,
            Task.assignee_group_id,
            User.name,
            Group.name,
            func.count(),
            func.min(Task.due_at),
        )
        .outerjoin(User, User.id == Task.assignee_user_id)
        .outerjoin(Group, Group.id == Task.assignee_group_id)
        .where(Task.status == TaskStatus.OPEN, Task.due_at < now, *scope.on(Task.agreement_id))
        .group_by(Task.assignee_user_id, Task.assignee_group_id, User.name, Group.name)
    )
    overdue = [
        OverdueAssignee(
            type="user", id=user_id, name=user_name or "", count=count, oldest_due_at=due
        )
        if user_id
        else OverdueAssignee(
            type="group", id=group_id or "", name=group_name or "", count=count, oldest_due_at=due
        )
        for user_id, group_id, user_name, group_name, count, due in rows
    ]
    return sorted(overdue, key=lambda o: (-o.count, o.oldest_due_at, o.name, o.id))


def _month(session: AsyncSession, column: Any) -> ColumnElement[str]:
    """YYYY-MM of a UTC timestamp column, in the database's own dialect."""
    if session.get_bind().dialect.name == "sqlite":
        # SQLite holds UTC timestamps as naive ISO text.
        return func.strftime(literal_column("'%Y-%m'"), column)
    # Constants as literals, not parameters: the expression is grouped on by label.
    return func.to_char(func.timezone(literal_column("'UTC'"), column), literal_column("'YYYY-MM'"))


async def _monthly(session: AsyncSession, scope: _Scope) -> list[MonthFigures]:
    activations = (
        select(
            AgreementEvent.agreement_id,
            _month(session, AgreementEvent.created_at).label("month"),
        )
        .where(_ACTIVATION, *scope.on(AgreementEvent.agreement_id))
        .subquery()
    )
    executed = await session.execute(
        select(activations.c.month, func.count(distinct(activations.c.agreement_id))).group_by(
            activations.c.month
        )
    )
    met = select(_month(session, Obligation.met_at).label("month")).where(
        Obligation.status == ObligationStatus.MET,
        Obligation.met_at.is_not(None),
        *scope.on(Obligation.agreement_id),
    )
    met_sq = met.subquery()
    obligations_met = await session.execute(
        select(met_sq.c.month, func.count()).group_by(met_sq.c.month)
    )
    months: dict[str, MonthFigures] = {}
    for month, count in executed:
        months.setdefault(month, MonthFigures(month=month, executed=0, obligations_met=0))
        months[month].executed = count
    for month, count in obligations_met:
        months.setdefault(month, MonthFigures(month=month, executed=0, obligations_met=0))
        months[month].obligations_met = count
    return [months[month] for month in sorted(months)]


async def _licensing(session: AsyncSession, scope: _Scope, active_licenses: int) -> Licensing:
    exclusive = Agreement.terms["exclusive"].as_boolean()
    executed = await session.execute(
        select(
            Agreement.kind,
            func.count(),
            func.coalesce(func.sum(case((exclusive, 1), else_=0)), 0),
        )
        .where(
            Agreement.kind.in_((AgreementKind.LICENSE, AgreementKind.OPTION)),
            Agreement.id.in_(select(AgreementEvent.agreement_id).where(_ACTIVATION)),
            *scope.agreements(),
        )
        .group_by(Agreement.kind)
    )
    counts = {kind: (int(count), int(exclusive_count)) for kind, count, exclusive_count in executed}
    licenses, exclusive_licenses = counts.get(AgreementKind.LICENSE, (0, 0))
    options, exclusive_options = counts.get(AgreementKind.OPTION, (0, 0))

    income_rows = await session.execute(
        select(Agreement.currency, func.sum(Obligation.income))
        .join(Agreement, Agreement.id == Obligation.agreement_id)
        .where(Obligation.income.is_not(None), *scope.agreements())
        .group_by(Agreement.currency)
    )
    cent = Decimal("0.01")
    by_currency = {
        currency: Decimal(total or 0).quantize(cent)
        for currency, total in sorted(income_rows, key=lambda r: r[0])
    }
    return Licensing(
        licenses_executed=licenses,
        options_executed=options,
        exclusive=exclusive_licenses + exclusive_options,
        non_exclusive=licenses + options - exclusive_licenses - exclusive_options,
        active_licenses=active_licenses,
        income_total=sum(by_currency.values(), Decimal("0.00")),
        income_by_currency=by_currency,
    )


# --- Rendering -----------------------------------------------------------------------


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _number(value: float | int | Decimal | None) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def _licensing_rows(licensing: Licensing) -> list[tuple[str, str]]:
    return [
        ("Licenses executed", _number(licensing.licenses_executed)),
        ("Options executed", _number(licensing.options_executed)),
        ("Exclusive", _number(licensing.exclusive)),
        ("Non-exclusive", _number(licensing.non_exclusive)),
        ("Active licenses", _number(licensing.active_licenses)),
        ("Reported income (all currencies)", _number(licensing.income_total)),
    ]


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


# -- HTML


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _bar_chart(title: str, bars: Sequence[tuple[str, float | None]], unit: str = "") -> str:
    """A horizontal bar chart as inline SVG; a bar of None shows "n/a"."""
    label_width, bar_width, value_width, row = 170, 380, 90, 24
    width = label_width + bar_width + value_width
    height = max(row * len(bars), row) + 8
    top = max((value or 0 for _, value in bars), default=0) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{_e(title)}" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'font-family="sans-serif" font-size="13">',
        f"<title>{_e(title)}</title>",
    ]
    if not bars:
        parts.append(f'<text x="4" y="{row - 6}" fill="#666">No data</text>')
    for index, (label, value) in enumerate(bars):
        y = 4 + index * row
        length = bar_width * (value or 0) / top
        shown = "n/a" if value is None else f"{_number(value)}{unit}"
        parts += [
            f'<text x="{label_width - 8}" y="{y + 16}" text-anchor="end">{_e(label)}</text>',
            f'<rect x="{label_width}" y="{y + 3}" width="{length:.1f}" height="{row - 8}" '
            f'fill="#3b6ea5"><title>{_e(label)}: {_e(shown)}</title></rect>',
            f'<text x="{label_width + length + 6:.1f}" y="{y + 16}">{_e(shown)}</text>',
        ]
    parts.append("</svg>")
    return "".join(parts)


def _html_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{_e(cell)}</td>" for cell in row) + "</tr>" for row in rows
    )
    if not body:
        body = f'<tr><td colspan="{len(headers)}" class="none">None</td></tr>'
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


_STYLE = """
body { font-family: sans-serif; margin: 2rem; color: #222; max-width: 60rem; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
table { border-collapse: collapse; margin: .5rem 0; }
th, td { border: 1px solid #ccc; padding: .25rem .6rem; text-align: left; }
td:not(:first-child) { text-align: right; font-variant-numeric: tabular-nums; }
.none, .meta { color: #666; }
"""


def portfolio_html(report: PortfolioReport) -> str:
    """A standalone page: inline CSS and SVG charts, no script, no external assets."""
    generated = _utc(report.generated_at)
    lic = report.licensing
    sections = [
        "<h2>Agreements by status</h2>",
        _bar_chart("Agreements by status", list(report.by_status.items())),
        "<h2>Agreements by kind</h2>",
        _html_table(["Kind", "Agreements"], report.by_kind.items()),
        "<h2>Agreements by party country</h2>",
        _html_table(["Country", "Agreements"], report.by_country.items()),
        "<h2>Days per stage</h2>",
        _bar_chart(
            "Median days per stage", [(s.stage, s.median_days) for s in report.stages], " d"
        ),
        _html_table(
            ["Stage", "Median days", "90th percentile days", "Finished", "In stage now"],
            [
                (s.stage, _number(s.median_days), _number(s.p90_days), s.finished, s.current)
                for s in report.stages
            ],
        ),
        "<h2>Executed per month</h2>",
        _bar_chart(
            "Agreements executed per month", [(m.month, m.executed) for m in report.monthly]
        ),
        _html_table(
            ["Month", "Executed", "Obligations met"],
            [(m.month, m.executed, m.obligations_met) for m in report.monthly],
        ),
        "<h2>Overdue tasks by assignee</h2>",
        _html_table(
            ["Assignee", "Type", "Overdue tasks", "Oldest due"],
            [
                (o.name, o.type, o.count, o.oldest_due_at.strftime("%Y-%m-%d"))
                for o in report.overdue_tasks
            ],
        ),
        "<h2>Licensing</h2>",
        _html_table(["Metric", "Value"], _licensing_rows(lic)),
        _html_table(
            ["Currency", "Reported income"],
            [(c, _number(total)) for c, total in lic.income_by_currency.items()],
        ),
    ]
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Accord portfolio report {_e(generated)}</title>"
        f"<style>{_STYLE}</style></head><body>"
        "<h1>Accord portfolio report</h1>"
        f'<p class="meta">Generated {_e(generated)} &middot; scope: {_e(report.scope)} '
        f"&middot; {report.agreements} agreements</p>" + "\n".join(sections) + "</body></html>\n"
    )


# -- Plain text


def _numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return text in ("", "n/a")
    return True


def _text_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
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
                ["Stage", "Median", "P90", "Finished", "Now"],
                [
                    (
                        s.stage,
                        _number(s.median_days) or "n/a",
                        _number(s.p90_days) or "n/a",
                        s.finished,
                        s.current,
                    )
                    for s in report.stages
                ],
            ),
        ),
        (
            "Overdue tasks by assignee",
            _text_table(
                ["Assignee", "Type", "Overdue", "Oldest due"],
                [
                    (o.name, o.type, o.count, o.oldest_due_at.strftime("%Y-%m-%d"))
                    for o in report.overdue_tasks
                ],
            ),
        ),
        (
            "Per month",
            _text_table(
                ["Month", "Executed", "Obligations met"],
                [(m.month, m.executed, m.obligations_met) for m in report.monthly],
            ),
        ),
        ("Licensing", _text_table(["Metric", "Value"], _licensing_rows(lic))),
        (
            "Reported income by currency",
            _text_table(
                ["Currency", "Income"],
                [(c, _number(total)) for c, total in lic.income_by_currency.items()],
            ),
        ),
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
