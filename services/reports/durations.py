"""Days per stage, in SQL: the median and 90th percentile of each stage's durations.

Window functions over the status changes give each stint in a stage; the days of the
stints an agreement has finished are summed per agreement and stage; Python only
interpolates the percentiles between the ranks the database sends back. The same
figures as cutting every status change into stints in Python (`figures.stage_stints`),
which took seconds at a million events (docs/reads-at-scale.md).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Float, Integer, case, cast, func, or_, select, type_coerce
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Subquery

from services.reports.figures import (
    DAY_SECONDS,
    STAGE_OF,
    TIMED_STAGES,
    percentile,
    rounded,
    stage_of,
)
from services.reports.models import StageStats
from services.store import AgreementEvent
from workflows.core.statuses import STAGES

# Stages as small integers inside SQL: lifecycle order, "unknown" after "closed".
_STAGE_CODE = {stage: code for code, stage in enumerate(STAGES)}
_UNKNOWN_STAGE = len(STAGES)
_QUANTILES = (50, 90)  # median_days, p90_days


def _stage_code(status: Any) -> ColumnElement[int]:
    return case(
        {value: _STAGE_CODE[stage] for value, stage in STAGE_OF.items()},
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


async def stage_stats(
    session: AsyncSession, where: Sequence[ColumnElement[bool]], by_status: dict[str, int]
) -> list[StageStats]:
    """Each timed stage's durations over the agreements that have left it, and how many
    agreements are in it now (from `by_status`).

    `where` holds the scope's conditions on `AgreementEvent.agreement_id`. An
    agreement's days in a stage are the sum of its stints there; the stage it is in now
    is left out (even if it was there before: its time is not known yet), and so is
    "closed", which never ends. Window functions over the status changes in seq order
    (the partial index ix_agreement_events_status_changes holds exactly those, in that
    order) give each stint's start, end and the agreement's current stage; the days are
    summed per agreement and stage (`finished`), then reduced to percentiles by
    `_percentiles`.
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
            *where,
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
            func.sum(_not_negative(session, seconds) / DAY_SECONDS).label("days"),
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
                median_days=rounded(median),
                p90_days=rounded(p90),
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
