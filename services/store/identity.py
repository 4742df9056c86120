"""Users, the groups they belong to, and their roles."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Enum, ForeignKey, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column, relationship

from services.store.base import Base, IdMixin, utcnow


class Role(StrEnum):
    PROGRAM_OFFICER = "program_officer"
    REVIEWER = "reviewer"
    IP_COUNSEL = "ip_counsel"
    SIGNATORY = "signatory"
    ADMIN = "admin"


class User(IdMixin, Base):
    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=32, validate_strings=True)
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    memberships: Mapped[list[GroupMember]] = relationship(back_populates="user", lazy="raise")


class Group(IdMixin, Base):
    """A pool of people a task can be assigned to; its lead receives escalations."""

    __tablename__ = "groups"

    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    lead_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))

    members: Mapped[list[GroupMember]] = relationship(back_populates="group", lazy="raise")


class GroupMember(Base):
    __tablename__ = "group_members"

    group_id: Mapped[str] = mapped_column(
        ForeignKey("groups.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )

    group: Mapped[Group] = relationship(back_populates="members", lazy="raise")
    user: Mapped[User] = relationship(back_populates="memberships", lazy="raise")


# Who may sign an agreement: a signatory, or an admin standing in.
SIGNING_ROLES = frozenset({Role.SIGNATORY, Role.ADMIN})


async def signing_users(session: AsyncSession, emails: Sequence[str]) -> dict[str, User | None]:
    """Each (lower-cased) address with its user if that user may sign now (active, in a
    signing role), else None. The API checks a proposal's signatories with it, and the
    signature stage checks them again when the envelope goes out."""
    users = {
        user.email.lower(): user
        for user in await session.scalars(select(User).where(User.email.in_(emails)))
    }
    return {
        email: user
        if (user := users.get(email)) and user.active and user.role in SIGNING_ROLES
        else None
        for email in emails
    }
