"""When the database is down the API says so with a 503, never a 500."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from temporalio.client import Client

from services.api.app import create_app
from services.config import Settings
from services.store.session import create_engine
from services.temporal import connect_temporal
from tests.factories import proposal
from tests.stack import Stack

UNREACHABLE = {
    "postgresql": "postgresql+asyncpg://postgres@127.0.0.1:1/test",
    "postgresql starting up": "postgresql+asyncpg://postgres@127.0.0.1:{port}/test",
    "sqlite": "sqlite+aiosqlite:////nonexistent-accord-dir/accord.db",
}


@asynccontextmanager
async def postgres_starting_up() -> AsyncIterator[int]:
    """A loopback server that answers as PostgreSQL does while it recovers after a crash:
    every connection is refused with FATAL 57P03 (asyncpg's CannotConnectNowError)."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            while True:  # an SSLRequest (declined with "N"), then the startup message
                length = int.from_bytes(await reader.readexactly(4), "big")
                code = int.from_bytes((await reader.readexactly(length - 4))[:4], "big")
                if code != SSL_REQUEST:
                    break
                writer.write(b"N")
            fields = b"".join(
                tag + text.encode() + b"\0"
                for tag, text in (
                    (b"S", "FATAL"),
                    (b"V", "FATAL"),
                    (b"C", "57P03"),
                    (b"M", "the database system is not yet accepting connections"),
                )
            )
            writer.write(b"E" + (len(fields) + 5).to_bytes(4, "big") + fields + b"\0")
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    async with server:
        yield server.sockets[0].getsockname()[1]


SSL_REQUEST = 80877103


@pytest.fixture(params=sorted(UNREACHABLE))
async def api_without_database(
    request: pytest.FixtureRequest, base_settings: Settings, temporal_client: Client
) -> AsyncIterator[httpx.AsyncClient]:
    async with postgres_starting_up() as port:
        engine = create_engine(UNREACHABLE[request.param].format(port=port))
        app = create_app(base_settings, engine=engine, temporal=temporal_client)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://accord.test",
            headers={"Authorization": "Bearer acc_any"},
        ) as client:
            yield client
        await engine.dispose()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/me"),
        ("GET", "/v1/agreements"),
        ("POST", "/v1/tasks/00000000-0000-0000-0000-000000000000/decision"),
    ],
)
async def test_requests_get_a_clear_503(
    api_without_database: httpx.AsyncClient, method: str, path: str
) -> None:
    body = {"outcome": "approve"} if method == "POST" else None
    response = await api_without_database.request(method, path, json=body)
    assert response.status_code == 503, response.text
    assert response.json()["error"] == "unavailable"
    assert "database" in response.json()["detail"]
    assert response.headers["Retry-After"]


async def test_readiness_names_the_database_and_liveness_holds(
    api_without_database: httpx.AsyncClient,
) -> None:
    ready = await api_without_database.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"].startswith("unreachable")
    assert ready.json()["checks"]["temporal"] == "ok"
    assert (await api_without_database.get("/healthz")).status_code == 200


async def test_without_temporal_the_api_starts_and_commands_get_a_503(
    stack: Stack, base_settings: Settings
) -> None:
    """The API connects lazily, so it serves reads and says why commands fail."""
    unreachable = await connect_temporal(
        base_settings.model_copy(update={"temporal_address": "127.0.0.1:1"}), lazy=True
    )
    app = create_app(base_settings, engine=stack.engine, temporal=unreachable)
    officer_token = stack.tokens["olivia.officer@accord.test"]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://accord.test",
        headers={"Authorization": f"Bearer {officer_token}"},
    ) as client:
        submitted = await client.post("/v1/proposals", json=proposal())
        assert submitted.status_code == 503, submitted.text
        assert "workflow service" in submitted.json()["detail"]
        assert (await client.get("/v1/agreements")).status_code == 200
        ready = await client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["temporal"].startswith("unreachable")
