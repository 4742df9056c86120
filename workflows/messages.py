"""Temporary: the old home of every message, while callers move to the stage packages."""

# ruff: noqa: F401
from workflows.clearance.messages import *  # noqa: F403
from workflows.core.commands import *  # noqa: F403
from workflows.core.documents import *  # noqa: F403
from workflows.core.fields import *  # noqa: F403
from workflows.core.notices import *  # noqa: F403
from workflows.core.proposal import *  # noqa: F403
from workflows.core.proposal import _check_signatories
from workflows.core.state import *  # noqa: F403
from workflows.core.state import AgreementState as Snapshot
from workflows.core.statuses import *  # noqa: F403
from workflows.core.tasks import *  # noqa: F403
from workflows.core.transition import *  # noqa: F403
from workflows.decisions import DECISION, OUTCOMES_BY_KIND
from workflows.portfolio import PortfolioMailing
from workflows.review.messages import *  # noqa: F403
from workflows.signature.messages import *  # noqa: F403
from workflows.term.messages import *  # noqa: F403


def Decision(**fields):  # type: ignore[no-untyped-def]
    return DECISION.validate_python(fields)
