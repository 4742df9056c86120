"""The calendar of an active agreement: its end, and the reports and milestones it owes.

Pure functions of the terms and the effective date, so the workflow can call them.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from datetime import datetime, timedelta

from workflows.core.proposal import Terms
from workflows.term.messages import Obligation, ObligationKind


def add_months(moment: datetime, months: int) -> datetime:
    """The same day `months` later, clamped to the month's last day (31 Jan + 1 = 28/29 Feb)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def obligations_for(
    terms: Terms,
    effective_at: datetime,
    lead: timedelta,
    new_id: Callable[[], str],
) -> list[Obligation]:
    """Periodic reports for the whole term, then milestones, in due order.

    A report task opens `lead` before its due date, but never before the agreement
    took effect.
    """
    ends_at = add_months(effective_at, terms.term_months)
    due: list[tuple[datetime, ObligationKind, str]] = []
    period = terms.reporting_period_months
    if period:
        number = 1
        while (at := add_months(effective_at, number * period)) <= ends_at:
            due.append((at, ObligationKind.REPORT, f"Report {number} ({period}-month period)"))
            number += 1
    for milestone in terms.milestones:
        due.append(
            (
                add_months(effective_at, milestone.due_after_months),
                ObligationKind.MILESTONE,
                milestone.name,
            )
        )
    due.sort(key=lambda item: item[0])
    return [
        Obligation(
            id=new_id(),
            kind=kind,
            name=name,
            due_at=at,
            opens_at=max(effective_at, at - lead),
        )
        for at, kind, name in due
    ]
