"""Signing in by link (from the `accord dev` banner or an e-mail) and signing out."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.deps import get_session, get_settings_dep
from services.config import Settings
from services.mail import Mailer
from services.store import User
from services.web.auth import (
    COOKIE,
    CsrfRefused,
    Viewer,
    create_sign_in_link,
    end_browser_session,
    form_viewer,
    open_browser_session,
    optional_viewer,
    redeem_sign_in_link,
    same_origin,
    set_session_cookie,
)
from services.web.rendering import page, redirect

log = logging.getLogger("accord.web")

router = APIRouter(include_in_schema=False)


def safe_next(target: str | None) -> str:
    """Only a path on this site: a sign-in link must not lead anywhere else."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target[:500]


@router.get("/sign-in")
async def sign_in_page(
    request: Request,
    next_: Annotated[str | None, Query(alias="next", max_length=500)] = None,
    current: Viewer | None = Depends(optional_viewer),
) -> Response:
    if current is not None:
        return redirect(safe_next(next_))
    return page(request, "signin.html", None, next=safe_next(next_), sent_to=None)


@router.post("/sign-in")
async def request_link(
    request: Request,
    email: Annotated[str, Form(max_length=254)],
    next_: Annotated[str, Form(alias="next", max_length=500)] = "/",
    session: AsyncSession = Depends(get_session),
    settings: Settings = Depends(get_settings_dep),
) -> Response:
    """Mail a sign-in link. The answer is the same whether or not the address is known."""
    if not same_origin(request, settings.public_url):
        raise CsrfRefused("the form was posted from another site")
    address = email.strip().lower()
    if "@" not in address or "\x00" in address:
        return page(
            request,
            "signin.html",
            None,
            status_code=422,
            next=safe_next(next_),
            sent_to=None,
            error="Enter the e-mail address Accord knows you by.",
            email=email,
        )
    # Addresses are stored lower-cased (as the API looks signatories up): the unique index
    # answers.
    user = await session.scalar(select(User).where(User.email == address))
    if user is not None and user.active:
        link = await create_sign_in_link(session, settings, user, base_url=str(request.base_url))
        link += f"&next={quote(safe_next(next_))}"
        await session.commit()
        await _mail_link(settings, user, link)
    return page(request, "signin.html", None, next=safe_next(next_), sent_to=address)


async def _mail_link(settings: Settings, user: User, link: str) -> None:
    """By SMTP when configured; otherwise into the development outbox under var/."""
    mailer = Mailer(settings)
    message = mailer.compose_report(
        user.email,
        "Your Accord sign-in link",
        f"Hello {user.name},\n\nOpen this link to sign in to Accord. It works once, within"
        f" {settings.sign_in_link_minutes:g} minutes:\n\n{link}\n\n"
        "If you did not ask to sign in, ignore this message.",
    )
    if mailer.configured:
        try:
            await mailer.send(message)
        except OSError as err:
            log.error("sign-in mail to %s not sent: %s", user.email, err)
        return
    outbox = settings.var_dir / "outbox"
    outbox.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    path = outbox / f"{stamp}-sign-in.eml"
    path.write_bytes(bytes(message))
    log.warning("no SMTP server configured: the sign-in mail for %s is in %s", user.email, path)


@router.get("/sign-in/link")
async def follow_link(
    request: Request,
    token: Annotated[str, Query(max_length=200)],
    next_: Annotated[str | None, Query(alias="next", max_length=500)] = None,
    session: AsyncSession = Depends(get_session),
    settings: Settings = Depends(get_settings_dep),
) -> Response:
    user = await redeem_sign_in_link(session, token)
    if user is None:
        return page(
            request,
            "signin.html",
            None,
            status_code=400,
            next=safe_next(next_),
            sent_to=None,
            error="This sign-in link has expired or was already used. Ask for a new one below.",
        )
    secret = await open_browser_session(session, settings, user)
    response = redirect(safe_next(next_))
    set_session_cookie(response, request, secret, settings)
    return response


@router.post("/sign-out")
async def sign_out(
    viewer: Viewer = Depends(form_viewer),
    session: AsyncSession = Depends(get_session),
) -> Response:
    await end_browser_session(session, viewer.session_id)
    response = redirect("/sign-in?signed_out=1")
    response.delete_cookie(COOKIE, path="/")
    return response


def sign_in_url(path: str) -> str:
    return f"/sign-in?next={quote(path)}"
