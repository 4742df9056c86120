"""Browser sign-in: single-use links open cookie sessions; every form carries a CSRF token.

Bearer tokens stay the API's only credential (`services.api.auth`); the session cookie
is honoured by the web app's routes alone, so no /v1 endpoint can be driven cross-site.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from fastapi import Depends, Request
from fastapi.responses import Response
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.auth import check_role, hash_token
from services.api.deps import get_session, get_settings_dep
from services.config import Settings
from services.store import BrowserSession, Role, SignInLink, User
from services.store.base import utcnow

COOKIE = "accord_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


class SignInRequired(Exception):
    """A page needs a signed-in browser; the app answers with the sign-in page."""


class CsrfRefused(Exception):
    """A form post without this session's CSRF token, or from another site."""


@dataclass(frozen=True)
class Viewer:
    """Who is looking at a page, and the token their forms must carry."""

    user: User
    csrf_token: str
    session_id: str


async def create_sign_in_link(
    session: AsyncSession, settings: Settings, user: User, *, base_url: str | None = None
) -> str:
    """A URL that signs `user` in once, within `sign_in_link_minutes`."""
    secret = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        SignInLink(
            token_hash=hash_token(secret),
            user_id=user.id,
            created_at=now,
            expires_at=now + timedelta(minutes=settings.sign_in_link_minutes),
        )
    )
    await session.flush()
    return f"{(base_url or settings.public_url).rstrip('/')}/sign-in/link?token={secret}"


async def redeem_sign_in_link(session: AsyncSession, secret: str) -> User | None:
    """The link's user, if the link is unused, unexpired and its user active; spends it.

    The spend is one conditional UPDATE, so two clicks racing on one link sign in once.
    """
    now = utcnow()
    link = await session.scalar(
        select(SignInLink).where(SignInLink.token_hash == hash_token(secret))
    )
    if link is None or link.used_at is not None or link.expires_at <= now:
        return None
    spent = await session.execute(
        update(SignInLink)
        .where(SignInLink.id == link.id, SignInLink.used_at.is_(None))
        .values(used_at=now)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        return None
    user = await session.get(User, link.user_id)
    return user if user is not None and user.active else None


async def open_browser_session(session: AsyncSession, settings: Settings, user: User) -> str:
    """Start a session for `user`; returns the cookie's secret."""
    secret = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        BrowserSession(
            token_hash=hash_token(secret),
            user_id=user.id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            expires_at=now + timedelta(hours=settings.browser_session_hours),
        )
    )
    await session.flush()
    return secret


async def end_browser_session(session: AsyncSession, session_id: str) -> None:
    await session.execute(
        update(BrowserSession)
        .where(BrowserSession.id == session_id, BrowserSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )


async def optional_viewer(
    request: Request, session: AsyncSession = Depends(get_session)
) -> Viewer | None:
    """The signed-in browser's user, or None (no cookie, ended, expired or deactivated)."""
    secret = request.cookies.get(COOKIE)
    if not secret or len(secret) > 200:
        return None
    row = (
        await session.execute(
            select(BrowserSession, User)
            .join(User, User.id == BrowserSession.user_id)
            .where(BrowserSession.token_hash == hash_token(secret))
        )
    ).first()
    if row is None:
        return None
    browser, user = row
    if browser.ended_at is not None or browser.expires_at <= utcnow() or not user.active:
        return None
    return Viewer(user=user, csrf_token=browser.csrf_token, session_id=browser.id)


async def viewer(current: Viewer | None = Depends(optional_viewer)) -> Viewer:
    """A page's viewer; without a session the app sends the browser to sign in."""
    if current is None:
        raise SignInRequired()
    return current


async def form_viewer(
    request: Request,
    current: Viewer | None = Depends(optional_viewer),
    settings: Settings = Depends(get_settings_dep),
) -> Viewer:
    """The viewer of a form post: same-site, signed in, and carrying the session's token."""
    if not same_origin(request, settings.public_url):
        raise CsrfRefused("the form was posted from another site")
    if current is None:
        raise SignInRequired()
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent.encode(), current.csrf_token.encode()):
        raise CsrfRefused("the form's security token is missing or out of date")
    return current


def same_origin(request: Request, public_url: str | None = None) -> bool:
    """False for a post the browser says came from another site (Origin, else Referer).

    The host must match the one the request was sent to, or the public URL's: behind a
    proxy that ends TLS the scheme the app sees differs from the page's, the host not.
    """
    if request.headers.get("sec-fetch-site") == "cross-site":
        return False
    source = request.headers.get("origin") or request.headers.get("referer")
    if not source or source == "null":
        # Browsers send Origin on every cross-origin POST; its absence means same-origin
        # or a non-browser client, which the session token still has to satisfy.
        return source != "null"
    sent = urlsplit(source).netloc
    return sent == request.url.netloc or (
        public_url is not None and sent == urlsplit(public_url).netloc
    )


def set_session_cookie(
    response: Response, request: Request, secret: str, settings: Settings
) -> None:
    """HttpOnly, SameSite=Lax, and Secure whenever the page was served over TLS."""
    response.set_cookie(
        COOKIE,
        secret,
        max_age=int(settings.browser_session_hours * 3600),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )


async def recover(session: AsyncSession, who: Viewer) -> None:
    """After a refused command: drop what the request wrote, and reload the viewer (a
    rollback, or the command gateway's `expire_all`, leaves it expired, and the page
    that shows the refusal reads it)."""
    await session.rollback()
    await session.refresh(who.user)


def require_role(who: Viewer, *roles: Role) -> User:
    """The check the API's `require_role` dependency makes, for a page calling an
    endpoint function directly."""
    return check_role(who.user, *roles)
