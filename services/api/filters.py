"""Query conditions shared by the list endpoints."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func, or_

# For free-text query parameters: PostgreSQL text cannot hold NUL, so it is a 422 up front.
NO_NUL = r"^[^\x00]*$"


def matches_text(text: str, *columns: Any) -> ColumnElement[bool]:
    """Any of the columns contains the text: case-insensitive, % and _ taken literally.

    SQLite's lower() folds ASCII only, so there non-ASCII letters match case-sensitively.
    """
    needle = text.lower()
    return or_(*(func.lower(column).contains(needle, autoescape=True) for column in columns))
