"""Writing the seed's batches: PostgreSQL through COPY (asyncpg copy_records_to_table,
JSON columns as text), other databases through SQLAlchemy Core insert() executemany;
and the tables' secondary indexes, dropped for the load and built again after it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Index, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from bench.seed_rows import (
    AGREEMENT_COLUMNS,
    DECISION_COLUMNS,
    EVENT_COLUMNS,
    OBLIGATION_COLUMNS,
    PARTY_COLUMNS,
    TASK_COLUMNS,
    Batch,
)
from services.store import (
    Agreement,
    AgreementEvent,
    AgreementParty,
    Obligation,
    Task,
    TaskDecision,
)

JSON_COLUMNS = {"ip_assets", "terms", "signatories", "export_control", "conditions", "data"}
JSON_COLUMNS_OBLIGATIONS = {"attachments"}


def _json_text(rows: list[tuple[Any, ...]], columns: tuple[str, ...]) -> Iterator[tuple[Any, ...]]:
    json_at = [i for i, c in enumerate(columns) if c in JSON_COLUMNS | JSON_COLUMNS_OBLIGATIONS]
    for row in rows:
        values = list(row)
        for i in json_at:
            if values[i] is not None:
                values[i] = json.dumps(values[i])
        yield tuple(values)


TABLES: tuple[tuple[str, Any, tuple[str, ...]], ...] = (
    ("agreements", Agreement.__table__, AGREEMENT_COLUMNS),
    ("parties", AgreementParty.__table__, PARTY_COLUMNS),
    ("events", AgreementEvent.__table__, EVENT_COLUMNS),
    ("tasks", Task.__table__, TASK_COLUMNS),
    ("decisions", TaskDecision.__table__, DECISION_COLUMNS),
    ("obligations", Obligation.__table__, OBLIGATION_COLUMNS),
)


async def write(connection: AsyncConnection, batch: Batch, counts: dict[str, int]) -> None:
    postgres = connection.dialect.name == "postgresql"
    for name, table, columns in TABLES:
        rows: list[tuple[Any, ...]] = getattr(batch, name)
        if not rows:
            continue
        counts[name] = counts.get(name, 0) + len(rows)
        if postgres:
            raw = await connection.get_raw_connection()
            driver = raw.driver_connection
            assert driver is not None
            await driver.copy_records_to_table(
                table.name, records=list(_json_text(rows, columns)), columns=list(columns)
            )
        else:
            await connection.execute(
                insert(table), [dict(zip(columns, r, strict=True)) for r in rows]
            )


def each_index(sync: Any, indexes: list[Index], action: str) -> None:
    for index in indexes:
        getattr(index, action)(sync)


def secondary_indexes() -> list[Index]:
    """The plain indexes of the bulk-loaded tables (keys and unique constraints stay)."""
    return [index for _, table, _ in TABLES for index in sorted(table.indexes, key=str)]
