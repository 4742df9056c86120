"""The API's process imports what serving HTTP needs, not what the worker needs.

The PDF renderer (fpdf2, with fontTools) and the fuzzy matcher (rapidfuzz) are the
worker's: the API loading them cost start-up time and memory in every API process.
The API and the web app reach the worker only through Temporal, never by importing
`services.workers`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from services.config import ROOT

WORKER_ONLY = ("fpdf", "fontTools", "rapidfuzz")

SCRIPT = """
import json, sys
import {module}
print(json.dumps(sorted(sys.modules)))
"""


def test_the_api_process_imports_nothing_of_the_worker() -> None:
    # What uvicorn loads (`services.api.main`: the app, its routers and the web app), in a
    # fresh interpreter: this test process has imported the worker for the stack.
    module = "services.api.main"
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(module=module)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.splitlines()[-1])
    heavy = sorted({name.split(".")[0] for name in loaded} & set(WORKER_ONLY))
    assert heavy == [], f"importing {module} loads {heavy}"
    worker = [name for name in loaded if name.split(".")[:2] == ["services", "workers"]]
    assert worker == [], f"importing {module} loads {worker}"
