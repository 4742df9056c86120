"""What an activity's failure says where Temporal shows it."""

from __future__ import annotations

from sqlalchemy.exc import OperationalError

from services.workers.failures import MAX_MESSAGE, readable


def test_a_database_error_is_its_type_and_first_line_without_the_statement() -> None:
    err = OperationalError(
        "INSERT INTO agreement_events (seq, data) VALUES (?, ?)",
        (1, "x" * 5000),
        Exception("database is locked"),
    )
    text = readable(err)
    assert text.startswith("OperationalError: (builtins.Exception) database is locked")
    assert "INSERT" not in text and "x" * 10 not in text


def test_a_long_line_is_cut_and_an_empty_message_is_the_type() -> None:
    text = readable(ValueError("y" * 1000))
    assert len(text) == MAX_MESSAGE and text.endswith("…")
    assert readable(TimeoutError()) == "TimeoutError"
