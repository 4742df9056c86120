"""Who am I, my notifications, and user management for admins."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import AfterValidator, BaseModel, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.auth import current_user, hash_token, new_token, require_role
from services.api.deps import get_session
from services.api.errors import Conflict, documented, invalid_field
from services.api.filters import NO_NUL, matches_text
from services.store import Group, GroupMember, Notification, Role, User
from workflows.core.fields import reject_nul

router = APIRouter(prefix="/v1", tags=["users"], responses=documented(401))


class GroupRef(BaseModel):
    id: str
    slug: str
    name: str


class UserOut(BaseModel):
    id: str
    email: str
    name: str
    role: Role
    groups: list[GroupRef]


class Member(BaseModel):
    id: str
    name: str
    email: str


class GroupOut(GroupRef):
    lead: Member | None
    members: list[Member]


# Stored or looked up as they are: PostgreSQL text cannot hold NUL, so it is a 422.
GroupSlug = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(reject_nul)]


class UserCreate(BaseModel):
    email: Annotated[
        str, Field(pattern=r"^[^@\s]+@[^@\s]+$", max_length=254), AfterValidator(reject_nul)
    ]
    name: Annotated[str, Field(min_length=1, max_length=200), AfterValidator(reject_nul)]
    role: Role
    groups: list[GroupSlug] = Field(default_factory=list, max_length=50, description="Group slugs")


class UserCreated(UserOut):
    token: str = Field(description="Shown once; only its hash is stored")


class NotificationOut(BaseModel):
    id: str
    kind: str
    subject: str
    body: str
    agreement_id: str
    task_id: str | None
    status: str
    created_at: datetime
    sent_at: datetime | None


async def _groups_by_user(session: AsyncSession, user_ids: list[str]) -> dict[str, list[GroupRef]]:
    """Each user's groups, by slug, in one query."""
    rows = await session.execute(
        select(GroupMember.user_id, Group.id, Group.slug, Group.name)
        .join(Group, Group.id == GroupMember.group_id)
        .where(GroupMember.user_id.in_(user_ids))
        .order_by(Group.slug)
    )
    groups: dict[str, list[GroupRef]] = {}
    for user_id, group_id, slug, name in rows:
        groups.setdefault(user_id, []).append(GroupRef(id=group_id, slug=slug, name=name))
    return groups


@router.get("/me", response_model=UserOut)
async def me(
    user: User = Depends(current_user), session: AsyncSession = Depends(get_session)
) -> UserOut:
    return UserOut(
        id=user.id,
        email=user.email,
        name=user.name,
        role=user.role,
        groups=(await _groups_by_user(session, [user.id])).get(user.id, []),
    )


@router.get("/users", response_model=list[UserOut], responses=documented(403))
async def list_users(
    role: Role | None = None,
    q: Annotated[
        str | None,
        Query(min_length=1, max_length=200, pattern=NO_NUL, description="Name or e-mail"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
    _: User = Depends(require_role(Role.ADMIN)),
    session: AsyncSession = Depends(get_session),
) -> list[UserOut]:
    """Active users by name, for admins who assign work."""
    stmt = select(User).where(User.active.is_(True))
    if role is not None:
        stmt = stmt.where(User.role == role)
    if q is not None:
        stmt = stmt.where(matches_text(q, User.name, User.email))
    users = list(await session.scalars(stmt.order_by(User.name, User.id).limit(limit)))
    groups = await _groups_by_user(session, [u.id for u in users])
    return [
        UserOut(id=u.id, email=u.email, name=u.name, role=u.role, groups=groups.get(u.id, []))
        for u in users
    ]


@router.get("/groups", response_model=list[GroupOut])
async def list_groups(
    _: User = Depends(current_user), session: AsyncSession = Depends(get_session)
) -> list[GroupOut]:
    """The groups tasks are assigned to, with their lead and members."""
    groups = list(await session.scalars(select(Group).order_by(Group.slug)))
    rows = await session.execute(
        select(GroupMember.group_id, User.id, User.name, User.email)
        .join(User, User.id == GroupMember.user_id)
        .where(User.active.is_(True))
        .order_by(User.name)
    )
    members: dict[str, list[Member]] = {}
    for group_id, user_id, name, email in rows:
        members.setdefault(group_id, []).append(Member(id=user_id, name=name, email=email))
    leads = {
        u.id: Member(id=u.id, name=u.name, email=u.email)
        for u in await session.scalars(
            select(User).where(User.id.in_([g.lead_id for g in groups if g.lead_id]))
        )
    }
    return [
        GroupOut(
            id=g.id,
            slug=g.slug,
            name=g.name,
            lead=leads.get(g.lead_id) if g.lead_id else None,
            members=members.get(g.id, []),
        )
        for g in groups
    ]


@router.get("/notifications", response_model=list[NotificationOut])
async def my_notifications(
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    user: User = Depends(current_user),
    session: AsyncSession = Depends(get_session),
) -> list[NotificationOut]:
    """The caller's reminders, escalations and assignments, newest first."""
    rows = await session.scalars(
        select(Notification)
        .where(Notification.recipient_id == user.id)
        .order_by(Notification.created_at.desc(), Notification.id)
        .limit(limit)
    )
    return [NotificationOut.model_validate(n, from_attributes=True) for n in rows]


@router.post(
    "/users",
    response_model=UserCreated,
    status_code=201,
    responses=documented(403, 409, s409="A user with this e-mail exists"),
)
async def create_user(
    body: UserCreate,
    _: User = Depends(require_role(Role.ADMIN)),
    session: AsyncSession = Depends(get_session),
) -> UserCreated:
    """Create a user and return their API token (once)."""
    groups = list(await session.scalars(select(Group).where(Group.slug.in_(body.groups))))
    unknown = sorted(set(body.groups) - {g.slug for g in groups})
    if unknown:
        raise invalid_field(("body", "groups"), f"unknown groups: {', '.join(unknown)}", unknown)
    token = new_token()
    user = User(
        email=body.email.lower(), name=body.name, role=body.role, token_hash=hash_token(token)
    )
    session.add(user)
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict(f"a user with e-mail {body.email} exists") from None
    for group in groups:
        session.add(GroupMember(group_id=group.id, user_id=user.id))
    await session.flush()
    return UserCreated(
        id=user.id,
        email=user.email,
        name=user.name,
        role=user.role,
        groups=[GroupRef(id=g.id, slug=g.slug, name=g.name) for g in groups],
        token=token,
    )
