"""Persistence shared by the API and the workers: models, engine, sessions."""

from services.store.agreements import Agreement, AgreementEvent, AgreementParty
from services.store.base import Base
from services.store.identity import Group, GroupMember, Role, User
from services.store.notifications import Notification
from services.store.tasks import Task, TaskDecision

metadata = Base.metadata

__all__ = [
    "Agreement",
    "AgreementEvent",
    "AgreementParty",
    "Base",
    "Group",
    "GroupMember",
    "Notification",
    "Role",
    "Task",
    "TaskDecision",
    "User",
    "metadata",
]
