"""A decision on a task, typed by its stage and told apart by `outcome`.

The API validates one of these at the edge; the workflow receives it as it is.
"""

from __future__ import annotations

from typing import Annotated, Literal, get_args

from pydantic import Field, TypeAdapter

from workflows.clearance.messages import ClearanceDecision, ConditionalClearance
from workflows.core.commands import DecisionBase
from workflows.core.statuses import TaskKind
from workflows.review.messages import ReviewDecision
from workflows.signature.messages import DeclineDecision, SignDecision
from workflows.term.messages import ReportDecision

Decision = Annotated[
    ReviewDecision
    | ClearanceDecision
    | ConditionalClearance
    | SignDecision
    | DeclineDecision
    | ReportDecision,
    Field(discriminator="outcome"),
]

DECISIONS_BY_KIND: dict[TaskKind, tuple[type[DecisionBase], ...]] = {
    TaskKind.REVIEW: (ReviewDecision,),
    TaskKind.IP_CLEARANCE: (ClearanceDecision, ConditionalClearance),
    TaskKind.SIGNATURE: (SignDecision, DeclineDecision),
    TaskKind.REPORT: (ReportDecision,),
}


def _outcomes(model: type[DecisionBase]) -> frozenset[str]:
    annotation = model.model_fields["outcome"].annotation
    assert getattr(annotation, "__origin__", None) is Literal
    return frozenset(get_args(annotation))


OUTCOMES_BY_KIND: dict[TaskKind, frozenset[str]] = {
    kind: frozenset().union(*(_outcomes(model) for model in models))
    for kind, models in DECISIONS_BY_KIND.items()
}

DECISION = TypeAdapter(Decision)
