"""Bearer tokens, stored as SHA-256 hashes, and the role checks built on them."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Awaitable, Callable

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.deps import get_session
from services.api.errors import Forbidden, Unauthenticated
from services.store import Role, User

bearer = HTTPBearer(auto_error=False, description="A user's API token")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return "acc_" + secrets.token_urlsafe(32)


async def current_user(
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
    session: AsyncSession = Depends(get_session),
) -> User:
    challenge = {"WWW-Authenticate": "Bearer"}
    if credentials is None:
        raise Unauthenticated("send 'Authorization: Bearer <token>'", headers=challenge)
    user = await session.scalar(
        select(User).where(User.token_hash == hash_token(credentials.credentials))
    )
    if user is None or not user.active:
        raise Unauthenticated("unknown or revoked token", headers=challenge)
    return user


def check_role(user: User, *roles: Role) -> User:
    """The user, if they have one of the roles; 403 otherwise."""
    if user.role not in roles:
        allowed = ", ".join(sorted(roles))
        raise Forbidden(f"this action needs one of the roles: {allowed}")
    return user


def require_role(*roles: Role) -> Callable[..., Awaitable[User]]:
    async def _check(user: User = Depends(current_user)) -> User:
        return check_role(user, *roles)

    return _check
