"""Fault injection: real processes killed and restarted, dependencies taken away.

Kill points and pauses come from a seeded random generator. The seed is printed; set
ACCORD_FAULT_SEED to run the same schedule again, or another one.
"""

from __future__ import annotations

import os
import random

import pytest


@pytest.fixture
def fault_rng(request: pytest.FixtureRequest) -> random.Random:
    seed = int(os.environ.get("ACCORD_FAULT_SEED") or random.SystemRandom().randrange(2**32))
    print(f"\n{request.node.name}: ACCORD_FAULT_SEED={seed}")
    return random.Random(seed)
