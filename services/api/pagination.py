"""Opaque keyset cursors: the sort key of the last row of a page."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

from services.api.errors import invalid_field


def encode_cursor(*values: str) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, parts: int) -> list[str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        values = None
    if (
        not isinstance(values, list)
        or len(values) != parts
        or not all(isinstance(v, str) for v in values)
    ):
        raise invalid_field(("query", "cursor"), "not a cursor this API returned", cursor)
    return values


def decode_keyset(cursor: str) -> tuple[datetime, str]:
    """A (timestamp, id) cursor, or a 422 naming `cursor`."""
    moment, row_id = decode_cursor(cursor, 2)
    try:
        return datetime.fromisoformat(moment), row_id
    except ValueError:
        raise invalid_field(("query", "cursor"), "not a cursor this API returned", cursor) from None
