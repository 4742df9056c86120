"""People: users (admins create them and see the new token once) and groups."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy.ext.asyncio import AsyncSession

from services.api.deps import get_session
from services.api.filters import NO_NUL
from services.api.users import endpoints as users_api
from services.store import Role
from services.web.auth import Viewer, form_viewer, recover, require_role, viewer
from services.web.rendering import REFUSALS, FormErrors, page

router = APIRouter(include_in_schema=False)


async def _people_page(
    request: Request,
    who: Viewer,
    session: AsyncSession,
    *,
    q: str | None = None,
    status_code: int = 200,
    **context: Any,
) -> Response:
    users = await users_api.list_users(
        role=None, q=q or None, limit=500, _=require_role(who, Role.ADMIN), session=session
    )
    groups = await users_api.list_groups(_=who.user, session=session)
    context.setdefault("errors", FormErrors())
    context.setdefault("values", {"groups": []})
    return page(
        request,
        "users.html",
        who,
        status_code=status_code,
        users=users,
        groups=groups,
        roles=list(Role),
        q=q or "",
        **context,
    )


@router.get("/users")
async def users(
    request: Request,
    q: Annotated[str | None, Query(max_length=200, pattern=NO_NUL)] = None,
    who: Viewer = Depends(viewer),
    session: AsyncSession = Depends(get_session),
) -> Response:
    return await _people_page(request, who, session, q=q)


@router.post("/users")
async def create_user(
    request: Request,
    who: Viewer = Depends(form_viewer),
    session: AsyncSession = Depends(get_session),
) -> Response:
    form = await request.form()
    body = {
        "email": str(form.get("email", "")).strip(),
        "name": str(form.get("name", "")).strip(),
        "role": str(form.get("role", "")),
        "groups": [str(g) for g in form.getlist("groups")],
    }
    try:
        created = await users_api.create_user(
            body=users_api.UserCreate.model_validate(body),
            _=require_role(who, Role.ADMIN),
            session=session,
        )
        await session.commit()
    except REFUSALS as err:
        await recover(session, who)
        errors = FormErrors.of(err)
        return await _people_page(
            request, who, session, status_code=errors.status_code, errors=errors, values=body
        )
    # The token is shown on this answer only: it is stored as a hash.
    return await _people_page(request, who, session, created=created)


@router.get("/groups")
async def groups(
    request: Request,
    who: Viewer = Depends(viewer),
    session: AsyncSession = Depends(get_session),
) -> Response:
    listing = await users_api.list_groups(_=who.user, session=session)
    return page(request, "groups.html", who, groups=listing)
