"""Persistence shared by the API and the workers: models, engine, sessions."""

from services.store.agreements import Agreement, AgreementEvent, AgreementParty
from services.store.base import Base
from services.store.browser import BrowserSession, SignInLink
from services.store.clearance import Finding
from services.store.identity import Group, GroupMember, Role, User, signing_users
from services.store.ip import IpAsset, IpLicense
from services.store.notifications import Notification
from services.store.obligations import Obligation
from services.store.screening import ScreeningClearance, ScreeningEntry, ScreeningList
from services.store.signature import AgreementDocument, Signature
from services.store.tasks import Task, TaskDecision

metadata = Base.metadata

__all__ = [
    "Agreement",
    "AgreementDocument",
    "AgreementEvent",
    "AgreementParty",
    "Base",
    "BrowserSession",
    "Finding",
    "Group",
    "GroupMember",
    "IpAsset",
    "IpLicense",
    "Notification",
    "Obligation",
    "Role",
    "ScreeningClearance",
    "ScreeningEntry",
    "ScreeningList",
    "SignInLink",
    "Signature",
    "Task",
    "TaskDecision",
    "User",
    "metadata",
    "signing_users",
]
