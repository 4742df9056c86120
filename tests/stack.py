"""A running Accord for tests: worker and API on a real Temporal server and database."""

from __future__ import annotations

import asyncio
import socket
import sys
import threading
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage as Message
from pathlib import Path
from typing import Any

import httpx
from aiosmtpd.controller import Controller
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from services.api.app import create_app
from services.config import Settings
from services.demo import DEMO_USERS
from services.mail import Mailer
from services.store.session import create_session_factory
from services.workers.worker import build_worker, worker_stages


class Mailbox:
    """What the loopback SMTP server received."""

    def __init__(self) -> None:
        self._messages: list[Message] = []
        self._lock = threading.Lock()
        self._holding: set[str] = set()
        self._held: list[tuple[str, threading.Event]] = []

    def hold(self, subject_has: str = "") -> None:
        """Keep messages whose subject contains `subject_has` waiting in DATA, as a slow
        relay would, until they are released."""
        with self._lock:
            self._holding.add(subject_has)

    def release(self, subject_has: str | None = None) -> None:
        """Stop holding what `hold(subject_has)` held, and let those waiting through;
        without an argument, everything."""
        with self._lock:
            self._holding = set() if subject_has is None else self._holding - {subject_has}
            gates = [gate for subject, gate in self._held if not self._is_held(subject)]
        for gate in gates:
            gate.set()

    def held(self, subject_has: str = "") -> int:
        """How many messages wait at the relay, with this in their subject."""
        with self._lock:
            return len(
                [1 for subject, gate in self._held if subject_has in subject and not gate.is_set()]
            )

    def _is_held(self, subject: str) -> bool:
        return any(pattern in subject for pattern in self._holding)

    def _gate(self, subject: str) -> threading.Event | None:
        """The gate a message with this subject waits at, if it is held."""
        with self._lock:
            if not self._is_held(subject):
                return None
            gate = threading.Event()
            self._held.append((subject, gate))
            return gate

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        gate = self._gate(str(message["Subject"]))
        if gate is not None:
            await asyncio.to_thread(gate.wait)
        with self._lock:
            self._messages.append(message)
        return "250 Message accepted for delivery"

    def messages(self) -> list[Message]:
        with self._lock:
            return list(self._messages)

    async def wait_for(
        self, predicate: Any, *, count: int = 1, within: float = 30
    ) -> list[Message]:
        """Messages matching `predicate`, once at least `count` of them have arrived."""
        deadline = asyncio.get_running_loop().time() + within
        while True:
            found = [m for m in self.messages() if predicate(m)]
            if len(found) >= count:
                return found
            if asyncio.get_running_loop().time() > deadline:
                subjects = [m["Subject"] for m in self.messages()]
                raise AssertionError(f"no matching mail within {within}s; got {subjects}")
            await asyncio.sleep(0.1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@asynccontextmanager
async def smtp_server() -> AsyncIterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


@dataclass
class Stack:
    settings: Settings
    client: Client
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    tokens: dict[str, str]
    api: httpx.AsyncClient
    worker: Worker | None = None
    actors: dict[str, httpx.AsyncClient] = field(default_factory=dict)

    def actor(self, key: str) -> httpx.AsyncClient:
        """An HTTP client authenticated as the demo user with this key (e.g. 'reviewer1')."""
        if key not in self.actors:
            email = next(u.email for u in DEMO_USERS if u.key == key)
            self.actors[key] = self.client_for(self.tokens[email])
        return self.actors[key]

    def client_for(self, token: str) -> httpx.AsyncClient:
        """An HTTP client of the in-process API that sends this bearer token."""
        return httpx.AsyncClient(
            transport=self.api._transport,
            base_url=str(self.api.base_url),
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        )

    def start_worker(self) -> Worker:
        activities = worker_stages(self.sessions, self.settings, Mailer(self.settings))
        self.worker = build_worker(self.client, self.settings.task_queue, activities)
        self._worker_run = asyncio.create_task(self.worker.run())
        return self.worker

    async def stop_worker(self) -> None:
        assert self.worker is not None
        await self.worker.shutdown()
        await self._worker_run
        self.worker = None


@asynccontextmanager
async def running_stack(
    base: Settings, client: Client, engine: AsyncEngine, tokens: dict[str, str], **overrides: Any
) -> AsyncIterator[Stack]:
    """Worker and API on a task queue of their own, so a test may stop its worker."""
    settings = base.model_copy(update={"task_queue": f"accord-test-{uuid.uuid4()}", **overrides})
    app = create_app(settings, engine=engine, temporal=client)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://accord.test", timeout=60
    ) as api:
        stack = Stack(settings, client, engine, create_session_factory(engine), tokens, api)
        stack.start_worker()
        try:
            yield stack
        finally:
            if stack.worker is not None:
                await stack.stop_worker()
            for actor in stack.actors.values():
                await actor.aclose()


@asynccontextmanager
async def suggesting_continue_as_new(after_events: int) -> AsyncIterator[WorkflowEnvironment]:
    """A Temporal dev server of its own that suggests continue-as-new early."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(Path(sys.executable).parent / "temporal"),
        data_converter=pydantic_data_converter,
        dev_server_log_level="error",
        dev_server_extra_args=[
            "--dynamic-config-value",
            f"limit.historyCount.suggestContinueAsNew={after_events}",
        ],
    )
    try:
        yield env
    finally:
        await env.shutdown()
