"""The web app: server-rendered pages for every role, served by the API's own process.

Pages call the API's endpoint functions (same checks, same command gateway); a browser
signs in by link and holds a cookie session; every form carries a CSRF token.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response

from services.api.errors import AccordError, render_error
from services.web import agreements, assets, inbox, people, portfolio, proposals, registry, signin
from services.web.auth import CsrfRefused, SignInRequired
from services.web.rendering import redirect, refusal_page

# Paths that belong to the JSON API and keep its JSON errors.
_API_PREFIXES = ("/v1/", "/healthz", "/readyz", "/openapi.json")


def is_page(request: Request) -> bool:
    return not request.url.path.startswith(_API_PREFIXES)


def install_web(app: FastAPI) -> None:
    """Add the pages, their assets and `/docs`; refusals on pages become pages."""
    assets.mount_static(app)
    for module in (assets, signin, inbox, proposals, agreements, registry, people, portfolio):
        app.include_router(module.router)

    async def _accord_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, AccordError)
        if not is_page(request):
            return await render_error(request, exc)
        return refusal_page(request, None, exc.status_code, exc.detail)

    async def _invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        if not is_page(request):
            return await request_validation_exception_handler(request, exc)
        # A page's own parameters: a malformed id is a page that does not exist.
        if any(e.get("loc", ("",))[0] == "path" for e in exc.errors()):
            return refusal_page(request, None, 404, "There is no such page.")
        wrong = "; ".join(f"{e['loc'][-1]}: {e['msg']}" for e in exc.errors() if e.get("loc"))
        return refusal_page(request, None, 422, f"The address is not valid ({wrong}).")

    async def _sign_in(request: Request, exc: Exception) -> Response:
        if request.method in ("GET", "HEAD"):
            return redirect(signin.sign_in_url(str(request.url.path)))
        return refusal_page(request, None, 403, "Please sign in, then try again.")

    async def _csrf(request: Request, exc: Exception) -> Response:
        return refusal_page(request, None, 403, f"The form was refused: {exc}.")

    app.add_exception_handler(AccordError, _accord_error)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(SignInRequired, _sign_in)
    app.add_exception_handler(CsrfRefused, _csrf)
