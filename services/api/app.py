"""The FastAPI application: engine and Temporal client are built once, in the lifespan."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from services.api.agreements.endpoints import router as agreements_router
from services.api.clearance.endpoints import router as clearance_router
from services.api.errors import install_error_handlers
from services.api.health import router as health_router
from services.api.ip_assets.endpoints import router as ip_assets_router
from services.api.reports.endpoints import router as reports_router
from services.api.signature.endpoints import router as signature_router
from services.api.tasks.endpoints import router as tasks_router
from services.api.term.endpoints import router as term_router
from services.api.users.endpoints import router as users_router
from services.config import Settings, get_settings
from services.store.session import create_engine, create_session_factory
from services.temporal import connect_temporal
from services.web import install_web


def create_app(
    settings: Settings | None = None,
    *,
    engine: AsyncEngine | None = None,
    temporal: Client | None = None,
) -> FastAPI:
    """Build the app; tests pass their own engine and client, production builds them."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own_engine = engine is None
        app.state.engine = engine or create_engine(settings.database_url)
        # Lazy: the API starts while Temporal is still coming up and says so on /readyz.
        app.state.temporal = temporal or await connect_temporal(settings, lazy=True)
        _bind(app, settings)
        # What start-up built lives as long as the process: move it out of the
        # collector's reach, so a full collection no longer walks it (that pause was
        # 130-260 ms and set the p99 of reads at scale; docs/performance.md).
        gc.freeze()
        yield
        if own_engine:
            await app.state.engine.dispose()

    app = FastAPI(
        title="Accord",
        version="0.1.0",
        description="Agreement lifecycle: review, IP clearance, signature and reporting.",
        lifespan=lifespan,
        # /docs is served by the web app from our own copy of Swagger UI (offline).
        docs_url=None,
        redoc_url=None,
    )
    if engine is not None and temporal is not None:
        app.state.engine, app.state.temporal = engine, temporal
        _bind(app, settings)
    install_error_handlers(app)
    for router in (
        health_router,
        agreements_router,
        # an agreement's stages: its document, its findings, its obligations
        signature_router,
        clearance_router,
        term_router,
        tasks_router,
        ip_assets_router,
        reports_router,
        users_router,
    ):
        app.include_router(router)
    install_web(app)
    return app


def _bind(app: FastAPI, settings: Settings) -> None:
    app.state.settings = settings
    app.state.sessions = create_session_factory(app.state.engine)
