"""Form posts as the JSON the API takes: field names are paths (`parties-0-country`).

The names are the locations pydantic reports errors at, joined by '-', so an error
found by the API's own models is shown beside the field it names.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, TypeVar

from starlette.datastructures import FormData

from services.api.errors import invalid_field

E = TypeVar("E", bound=StrEnum)

# A repeated group's rows beyond this are not read: no form has as many.
_MAX_ROWS = 100


def nested(form: FormData, *, lists: frozenset[str] = frozenset()) -> dict[str, Any]:
    """`a-0-b=x` -> {"a": [{"b": "x"}]}. Rows left wholly empty are dropped; blank values
    are left out, so an optional field left empty is "not given", not "".

    `lists` names fields sent several times (their values become a list).
    """
    tree: dict[str, Any] = {}
    for key in form:
        if key == "csrf_token" or len(key) > 200:
            continue
        if key in lists:
            values = [v.strip() for v in form.getlist(key) if isinstance(v, str) and v.strip()]
            tree[key] = values
            continue
        value = form.get(key)
        if not isinstance(value, str):
            continue
        value = value.strip()
        if value == "":
            continue
        _put(tree, key.split("-"), value)
    return _compact(tree)


def _put(tree: dict[str, Any], path: list[str], value: str) -> None:
    node: dict[str, Any] = tree
    for part in path[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            return
    node[path[-1]] = value


def _compact(node: Any) -> Any:
    """Dicts keyed by row numbers become lists in row order, empty rows gone."""
    if not isinstance(node, dict):
        return node
    if node and all(key.isdigit() for key in node):
        rows = sorted(((int(k), v) for k, v in node.items() if int(k) < _MAX_ROWS))
        return [_compact(v) for _, v in rows if v not in ({}, None, "")]
    return {key: _compact(value) for key, value in node.items()}


def words(text: Any) -> Any:
    """'DE, FR  US' -> ['DE', 'FR', 'US']: a list typed into one field. Anything but text
    (a forged form's `territories-0=…`) is left for the model to refuse."""
    if not isinstance(text, str):
        return text if text is not None else []
    return [part for part in text.replace(",", " ").split() if part]


def lines(text: Any) -> Any:
    """One entry per non-empty line; anything but text is left for the model to refuse."""
    if not isinstance(text, str):
        return text if text is not None else []
    return [line.strip() for line in text.splitlines() if line.strip()]


def rows(value: Any) -> list[dict[str, Any]] | Any:
    """A repeated group's rows; anything else as it came, for the model to refuse."""
    return value if value is not None else []


def section(value: Any) -> dict[str, Any]:
    """A group of fields (`terms-…`); a lone value where a group belongs counts as empty,
    and the model then names the fields the group is missing."""
    return dict(value) if isinstance(value, dict) else {}


def shown_rows(value: Any) -> list[dict[str, Any]]:
    """Rows as a form can show them again: only those that are groups of fields."""
    return [row for row in value if isinstance(row, dict)] if isinstance(value, list) else []


def shown_text(value: Any) -> str:
    """A value as a text field can show it again."""
    return value if isinstance(value, str) else ""


def choice(kind: type[E], value: str | None, field: str) -> E | None:
    """A filter's choice: empty is "any" (a form's blank option sends `status=`)."""
    if not value:
        return None
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise invalid_field(("query", field), f"use one of: {allowed}", value) from None
