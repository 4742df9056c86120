"""What a fault test starts, kills and starts again: the worker process, a Temporal dev
server on a file, a PostgreSQL cluster of its own, a lock on a SQLite file; and the API
in this process, without a worker."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sqlite3
import sys
import tempfile
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path

import asyncpg
import httpx
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError

from services.api.app import create_app
from services.cli import migrate
from services.config import ROOT, Settings
from services.demo import seed_demo
from services.store.session import create_engine, create_session_factory
from tests.stack import Stack, free_port
from workflows.portfolio import PORTFOLIO_SCHEDULE_ID

BIN = Path(sys.executable).parent
PG_BIN = Path(os.environ.get("ACCORD_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


class WorkerProcess:
    """`python -m services.workers`, configured by ACCORD_* variables as in production."""

    READY = "worker polling task queue"

    def __init__(self, settings: Settings, log: Path) -> None:
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("ACCORD_")},
            "ACCORD_DATABASE_URL": settings.database_url,
            "ACCORD_TEMPORAL_ADDRESS": settings.temporal_address,
            "ACCORD_TASK_QUEUE": settings.task_queue,
            "ACCORD_SMTP_HOST": settings.smtp_host or "",
            "ACCORD_SMTP_PORT": str(settings.smtp_port),
            "ACCORD_PUBLIC_URL": settings.public_url,
            "ACCORD_REVIEW_POLICY_FILE": str(settings.review_policy_file),
            "ACCORD_ROOT": str(ROOT),
        }
        if not settings.smtp_host:
            del self.env["ACCORD_SMTP_HOST"]
        self.log = log
        self.process: asyncio.subprocess.Process | None = None
        self.starts = 0
        self.kills = 0

    async def start(self, *, within: float = 90) -> None:
        """Start the worker and return once it polls its task queue."""
        assert self.process is None or self.process.returncode is not None
        self.starts += 1
        with self.log.open("ab") as out:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "services.workers",
                env=self.env,
                cwd=ROOT,
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            async with asyncio.timeout(within):
                while self.log.read_text(errors="replace").count(self.READY) < self.starts:
                    if self.process.returncode is not None:
                        raise AssertionError(f"the worker exited early:\n{_tail(self.log)}")
                    await asyncio.sleep(0.1)
        except TimeoutError:
            message = f"the worker did not start in {within}s:\n{_tail(self.log)}"
            raise AssertionError(message) from None

    async def kill(self) -> None:
        """SIGKILL: no shutdown, no goodbye to the server, nothing flushed."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()
        self.kills += 1

    async def stop(self) -> None:
        """SIGTERM, as a deployment stops it; SIGKILL if it hangs."""
        if self.process is None or self.process.returncode is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(30):
                await self.process.wait()
        except TimeoutError:
            await self.kill()


@asynccontextmanager
async def worker_process(
    settings: Settings, log: Path, client: Client | None = None
) -> AsyncIterator[WorkerProcess]:
    """A started worker process, stopped on the way out. On the shared Temporal server
    (`client`), the portfolio schedule the worker creates at start is removed again."""
    worker = WorkerProcess(settings, log)
    try:
        await worker.start()
        yield worker
    finally:
        await worker.stop()
        if client is not None:
            with suppress(RPCError):
                await client.get_schedule_handle(PORTFOLIO_SCHEDULE_ID).delete()


class TemporalServer:
    """`temporal server start-dev` on a file: what it stored survives a restart."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.db_file = directory / "temporal.db"
        self.log = directory / "temporal.log"
        self.process: asyncio.subprocess.Process | None = None

    async def start(self, *, within: float = 90) -> None:
        with self.log.open("ab") as out:
            self.process = await asyncio.create_subprocess_exec(
                str(BIN / "temporal"),
                "server",
                "start-dev",
                "--ip",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--headless",
                "--db-filename",
                str(self.db_file),
                "--log-level",
                "error",
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            async with asyncio.timeout(within):
                while True:
                    if self.process.returncode is not None:
                        raise AssertionError(f"temporal exited early:\n{_tail(self.log)}")
                    try:
                        client = await Client.connect(self.address)
                        if await client.service_client.check_health():
                            return
                    except Exception:
                        pass
                    await asyncio.sleep(0.25)
        except TimeoutError:
            message = f"temporal did not start in {within}s:\n{_tail(self.log)}"
            raise AssertionError(message) from None

    async def stop(self, sig: signal.Signals = signal.SIGKILL) -> None:
        if self.process is None or self.process.returncode is not None:
            return
        self.process.send_signal(sig)
        try:
            async with asyncio.timeout(30):
                await self.process.wait()
        except TimeoutError:
            self.process.kill()
            await self.process.wait()

    async def client(self) -> Client:
        """A lazy client, as the API holds: it connects, and reconnects, on use."""
        return await Client.connect(self.address, data_converter=pydantic_data_converter, lazy=True)


async def prepare_database(url: str, tokens_file: Path) -> dict[str, str]:
    """Migrate a fresh database to head and seed the demo users; their tokens."""
    await asyncio.to_thread(migrate, url)
    engine = create_engine(url)
    try:
        async with create_session_factory(engine)() as session:
            return await seed_demo(session, tokens_file)
    finally:
        await engine.dispose()


class PrivatePostgres:
    """A PostgreSQL cluster of the test's own, on its own port, that it stops and starts.
    Stopped, it is gone: connections are refused, reads fail as writes do.

    The server refuses to run as root; when the tests run as root it runs as `postgres`,
    in a directory of its own under /tmp (pytest's are private to root)."""

    reads_fail = True

    def __init__(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="accord-pg-"))
        self.data = self.directory / "data"
        self.log = self.directory / "postgres.log"
        self.port = free_port()
        self.url = f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/accord"
        self.tokens: dict[str, str] = {}

    def _as_postgres(self) -> list[str]:
        return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    async def _run(self, *args: str, within: float = 120) -> None:
        process = await asyncio.create_subprocess_exec(
            *self._as_postgres(),
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        async with asyncio.timeout(within):
            output, _ = await process.communicate()
        if process.returncode != 0:
            raise AssertionError(f"{args[0]} failed:\n{output.decode()}\n{_tail(self.log)}")

    async def setup(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
        await self._run(
            str(PG_BIN / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
        )
        await self.up()
        admin = await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{self.port}/postgres")
        try:
            await admin.execute("CREATE DATABASE accord")
        finally:
            await admin.close()
        self.tokens = await prepare_database(self.url, self.directory / "tokens.json")

    async def up(self) -> None:
        await self._run(
            str(PG_BIN / "pg_ctl"),
            "start",
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-w",
            "-t",
            "60",
            "-o",
            f"-k {self.directory} -p {self.port} -c listen_addresses=127.0.0.1 -c fsync=off",
        )

    async def down(self) -> None:
        """`immediate` is a crash: no checkpoint, every connection cut."""
        await self._run(
            str(PG_BIN / "pg_ctl"), "stop", "-D", str(self.data), "-m", "immediate", "-w"
        )

    async def teardown(self) -> None:
        with suppress(AssertionError):
            await self.down()
        shutil.rmtree(self.directory, ignore_errors=True)


class PrivateSqlite:
    """A SQLite file of the test's own that another connection write-locks, as a stuck
    writer or a backup would (`BEGIN EXCLUSIVE`). In WAL mode readers still read: only
    writes wait."""

    reads_fail = False

    def __init__(self, directory: Path) -> None:
        self.path = directory / "accord.db"
        self.url = f"sqlite+aiosqlite:///{self.path}"
        self.tokens: dict[str, str] = {}
        self._release = threading.Event()
        self._thread: threading.Thread | None = None

    async def setup(self) -> None:
        self.tokens = await prepare_database(self.url, self.path.parent / "tokens.json")

    async def down(self) -> None:
        locked = threading.Event()
        failure: list[BaseException] = []
        self._release.clear()

        def hold() -> None:
            try:
                connection = sqlite3.connect(self.path, timeout=60, isolation_level=None)
                try:
                    connection.execute("BEGIN EXCLUSIVE")
                    locked.set()
                    self._release.wait(300)
                    connection.execute("ROLLBACK")
                finally:
                    connection.close()
            except BaseException as err:  # the test sees it below
                failure.append(err)
            finally:
                locked.set()

        self._thread = threading.Thread(target=hold, name="sqlite-lock", daemon=True)
        self._thread.start()
        await asyncio.to_thread(locked.wait, 90)
        if failure:
            raise failure[0]

    async def up(self) -> None:
        self._release.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 30)
            self._thread = None

    async def teardown(self) -> None:
        await self.up()


@asynccontextmanager
async def api_only(
    settings: Settings, client: Client, database_url: str, tokens: dict[str, str]
) -> AsyncIterator[Stack]:
    """The API in this process, on an engine of its own; no worker (that is a process)."""
    engine = create_engine(database_url)
    app = create_app(settings, engine=engine, temporal=client)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://accord.test", timeout=120
        ) as api:
            stack = Stack(settings, client, engine, create_session_factory(engine), tokens, api)
            try:
                yield stack
            finally:
                for actor in stack.actors.values():
                    await actor.aclose()
    finally:
        await engine.dispose()
