"""What the replay test and the history recorder share: where recorded histories live,
and the Replayer that checks a history against the current workflow code."""

from __future__ import annotations

from pathlib import Path

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from workflows.agreement import AgreementWorkflow

HISTORIES = Path(__file__).parent / "histories"


def replayer() -> Replayer:
    return Replayer(workflows=[AgreementWorkflow], data_converter=pydantic_data_converter)
