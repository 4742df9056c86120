"""Each stage lists its activities, in the workflow and in the worker, and the worker
collects them: the two lists name the same activities."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity

from services.config import Settings
from services.mail import Mailer
from services.store.session import create_session_factory
from services.workers.worker import worker_stages
from workflows.clearance import stage as clearance
from workflows.core import activities as core
from workflows.portfolio import MAIL_PORTFOLIO_REPORT
from workflows.review import stage as review
from workflows.signature import stage as signature
from workflows.term import stage as term


def test_the_worker_runs_every_activity_the_workflows_call(
    engine: AsyncEngine, base_settings: Settings
) -> None:
    stages = worker_stages(create_session_factory(engine), base_settings, Mailer(base_settings))
    registered = [
        definition.name
        for stage in stages
        for fn in stage.activities()
        if (definition := activity._Definition.from_callable(fn)) and definition.name
    ]
    called = {
        *core.ACTIVITIES,
        *review.ACTIVITIES,
        *clearance.ACTIVITIES,
        *signature.ACTIVITIES,
        *term.ACTIVITIES,
        MAIL_PORTFOLIO_REPORT,
    }
    assert sorted(registered) == sorted(called)
