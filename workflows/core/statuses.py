"""Where an agreement stands, and where a task stands."""

from __future__ import annotations

from enum import StrEnum


class AgreementStatus(StrEnum):
    IN_REVIEW = "in_review"
    CHANGES_REQUESTED = "changes_requested"
    IP_CLEARANCE = "ip_clearance"
    IN_SIGNATURE = "in_signature"
    ACTIVE = "active"
    COMPLETED = "completed"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    BLOCKED = "blocked"
    EXPIRED = "expired"
    TERMINATED = "terminated"

    @property
    def stage(self) -> str:
        return _STAGE_OF[self]

    @property
    def is_terminal(self) -> bool:
        return self.stage == "closed"

    @property
    def may_withdraw(self) -> bool:
        """Officers may withdraw any time before every signature is in."""
        return self in (
            AgreementStatus.IN_REVIEW,
            AgreementStatus.CHANGES_REQUESTED,
            AgreementStatus.IP_CLEARANCE,
            AgreementStatus.IN_SIGNATURE,
        )


_STAGE_OF = {
    AgreementStatus.IN_REVIEW: "review",
    AgreementStatus.CHANGES_REQUESTED: "review",
    AgreementStatus.IP_CLEARANCE: "ip_clearance",
    AgreementStatus.IN_SIGNATURE: "signature",
    AgreementStatus.ACTIVE: "active",
    AgreementStatus.COMPLETED: "closed",
    AgreementStatus.REJECTED: "closed",
    AgreementStatus.WITHDRAWN: "closed",
    AgreementStatus.BLOCKED: "closed",
    AgreementStatus.EXPIRED: "closed",
    AgreementStatus.TERMINATED: "closed",
}

# The stages in lifecycle order, for reports.
STAGES = ("review", "ip_clearance", "signature", "active", "closed")


class TaskKind(StrEnum):
    REVIEW = "review"
    IP_CLEARANCE = "ip_clearance"
    SIGNATURE = "signature"
    REPORT = "report"


class TaskStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
