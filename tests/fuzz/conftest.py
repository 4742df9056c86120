"""The fuzz run goes last: it leaves users, assets and agreements with generated names in
the session's shared database, which tests that read whole lists should not meet."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    fuzz = [item for item in items if HERE in item.path.parents]
    others = [item for item in items if HERE not in item.path.parents]
    items[:] = others + fuzz
