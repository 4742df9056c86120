"""Every file a page loads comes from Accord itself: our own CSS and script, and the npm
packages `make` installs (htmx, Swagger UI), so the app and `/docs` work offline."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

from services.api.errors import NotFound
from services.config import Settings

STATIC = Path(__file__).parent / "static"

# URL name -> the file in node_modules that `make` installs from package.json.
VENDOR = {
    "htmx.min.js": "htmx.org/dist/htmx.min.js",
    "swagger-ui-bundle.js": "swagger-ui-dist/swagger-ui-bundle.js",
    "swagger-ui.css": "swagger-ui-dist/swagger-ui.css",
}

router = APIRouter(include_in_schema=False)


@router.get("/static/vendor/{name}")
async def vendor_asset(name: str, request: Request) -> FileResponse:
    settings: Settings = request.app.state.settings
    relative = VENDOR.get(name)
    path = settings.assets_dir / relative if relative else None
    if path is None or not path.is_file():
        raise NotFound(f"no asset {name}; run `make` to install the web assets (npm ci)")
    return FileResponse(path, headers={"Cache-Control": "public, max-age=86400"})


@router.get("/docs")
async def swagger_ui(request: Request) -> HTMLResponse:
    """Swagger UI from our own files (FastAPI's default loads them from a CDN)."""
    return get_swagger_ui_html(
        openapi_url=request.app.openapi_url or "/openapi.json",
        title="Accord API",
        swagger_js_url="/static/vendor/swagger-ui-bundle.js",
        swagger_css_url="/static/vendor/swagger-ui.css",
        swagger_favicon_url="/static/app/favicon.svg",
        # The online validator badge would call validator.swagger.io.
        swagger_ui_parameters={"validatorUrl": None},
    )


def mount_static(app: FastAPI) -> None:
    app.mount("/static/app", StaticFiles(directory=STATIC), name="static")
