"""The field types every message shares: bounded text, codes, money.

Each bound is the one the edge validates, so nothing larger reaches Temporal.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints


def reject_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL; refuse it at the edge rather than in a write.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


def upper_stripped(value: object) -> object:
    return value.strip().upper() if isinstance(value, str) else value


# The codes are upper-cased and stripped before their pattern is checked, which leaves
# the pattern out of the JSON schema; the document states it, for the letters as sent.
_LETTERS = "^[A-Za-z]{{{}}}$"

CountryCode = Annotated[
    str,
    BeforeValidator(upper_stripped),
    StringConstraints(pattern=r"^[A-Z]{2}$"),
    Field(
        description="ISO 3166-1 alpha-2 country code, e.g. DE",
        json_schema_extra={"pattern": _LETTERS.format(2)},
    ),
]
Territory = Annotated[
    str,
    BeforeValidator(upper_stripped),
    StringConstraints(pattern=r"^([A-Z]{2}|WW)$"),
    Field(
        description="ISO 3166-1 alpha-2 country code, or WW for worldwide",
        json_schema_extra={"pattern": _LETTERS.format(2)},
    ),
]
CurrencyCode = Annotated[
    str,
    BeforeValidator(upper_stripped),
    StringConstraints(pattern=r"^[A-Z]{3}$"),
    Field(description="ISO 4217 currency code", json_schema_extra={"pattern": _LETTERS.format(3)}),
]
# Decimals are documented as "a number, or any string"; a pattern (which JSON Schema
# applies to strings only) says which strings.
DECIMAL: dict[str, Any] = {"pattern": r"^\d{1,20}(\.\d{1,20})?$"}
MONEY: dict[str, Any] = {"pattern": r"^\d{1,16}(\.\d{1,2})?$"}

Text = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
    AfterValidator(reject_nul),
]
LongText = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=10_000), AfterValidator(reject_nul)
]
Comment = Annotated[str, StringConstraints(max_length=5_000), AfterValidator(reject_nul)]
Reason = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=5_000),
    AfterValidator(reject_nul),
]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
