"""The portfolio report built from the store: `build_portfolio` and its queries.

What is where (by status, kind, party country), whose tasks are overdue, what was
executed and met month by month, and licensing figures in the manner of the AUTM
licensing survey, each counted in SQL with GROUP BY; the days per stage come from
`durations`. Read-only; no FastAPI here.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, case, distinct, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.reports.durations import stage_stats
from services.reports.models import Licensing, MonthFigures, OverdueAssignee, PortfolioReport
from services.store import Agreement, AgreementEvent, AgreementParty, Group, Obligation, Task, User
from workflows.core.proposal import AgreementKind
from workflows.core.statuses import AgreementStatus, TaskStatus
from workflows.term.messages import ObligationStatus

ACTIVATED = "activated"
# As a literal, not a parameter: the partial index ix_agreement_events_activations is
# defined by exactly this predicate, and a plan for "type = $1" could not use it.
_ACTIVATION = AgreementEvent.type == literal_column(f"'{ACTIVATED}'")


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
        stages=await stage_stats(session, scope.on(AgreementEvent.agreement_id), by_status),
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
