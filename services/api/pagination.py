"""Opaque keyset cursors: the sort key of the last row of a page."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_

from services.api.errors import invalid_field


def encode_cursor(*values: str) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, parts: int) -> list[str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        values = None
    # Values go into queries as they are: PostgreSQL text cannot hold NUL.
    if (
        not isinstance(values, list)
        or len(values) != parts
        or not all(isinstance(v, str) and "\x00" not in v for v in values)
    ):
        raise invalid_field(("query", "cursor"), "not a cursor this API returned", cursor)
    return values


def decode_keyset(cursor: str) -> tuple[datetime, str]:
    """A (timestamp, id) cursor, or a 422 naming `cursor`.

    The API writes the timestamp with its offset; a forged one without, or one that is
    out of range once in UTC, would fail in the query, so it is refused here.
    """
    moment, row_id = decode_cursor(cursor, 2)
    try:
        parsed = datetime.fromisoformat(moment)
        if parsed.tzinfo is None:
            raise ValueError("no offset")
        return parsed.astimezone(UTC), row_id
    except (ValueError, OverflowError):
        raise invalid_field(("query", "cursor"), "not a cursor this API returned", cursor) from None


def after_keyset(
    moment_column: Any, id_column: Any, moment: datetime, row_id: str, *, descending: bool
) -> ColumnElement[bool]:
    """The rows after (moment, row_id) in the order (moment_column, id_column), both
    descending or both ascending.

    Written `moment <= x AND (moment < x OR id < y)`, not `moment < x OR (moment = x AND
    id < y)`: the same rows, but the first term bounds a range of an index on (moment,
    id), so a page deep in the set costs what the first does. Given the OR alone, both
    databases walked the index from its start, filtering (docs/reads-at-scale.md).
    """
    if descending:
        return and_(moment_column <= moment, or_(moment_column < moment, id_column < row_id))
    return and_(moment_column >= moment, or_(moment_column > moment, id_column > row_id))
