"""`accord`: migrate, seed demo users, and run the whole service on one machine."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from services.config import ROOT, get_settings


def _tokens_file() -> Path:
    return get_settings().var_dir / "demo-tokens.json"


def migrate(database_url: str | None = None) -> None:
    """Bring the database to the newest schema revision."""
    from alembic import command
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["configure_logger"] = False
    if database_url:
        config.attributes["database_url"] = database_url
    command.upgrade(config, "head")


async def _seed() -> dict[str, str]:
    from services.demo import seed_demo
    from services.store.session import create_engine, create_session_factory

    engine = create_engine(get_settings().database_url)
    try:
        async with create_session_factory(engine)() as session:
            return await seed_demo(session, _tokens_file())
    finally:
        await engine.dispose()


async def _sign_in_links(emails: list[str], base_url: str) -> dict[str, str]:
    """A fresh single-use sign-in link for each of these users (unknown ones are skipped)."""
    from sqlalchemy import select

    from services.store import User
    from services.store.session import create_engine, create_session_factory
    from services.web.auth import create_sign_in_link

    settings = get_settings()
    engine = create_engine(settings.database_url)
    try:
        async with create_session_factory(engine)() as session:
            links = {}
            for user in await session.scalars(select(User).where(User.email.in_(emails))):
                if user.active:
                    links[user.email] = await create_sign_in_link(
                        session, settings, user, base_url=base_url
                    )
            await session.commit()
            return links
    finally:
        await engine.dispose()


async def _load_screening_list(path: Path, *, only_if_none: bool = False) -> str | None:
    """Load a screening list; with `only_if_none`, only when none was ever loaded."""
    from sqlalchemy import select

    from services.store import ScreeningList
    from services.store.session import create_engine, create_session_factory
    from services.workers.clearance.screening_list import load_screening_list

    engine = create_engine(get_settings().database_url)
    try:
        async with create_session_factory(engine)() as session:
            if only_if_none and await session.scalar(select(ScreeningList.id).limit(1)):
                return None
            loaded = await load_screening_list(session, path)
            return f"{loaded.entry_count} entries from {path} (version {loaded.version[:12]})"
    finally:
        await engine.dispose()


async def _portfolio(output: str) -> str:
    from datetime import UTC, datetime

    from services.reports.queries import build_portfolio
    from services.reports.renderers import portfolio_csv, portfolio_html, portfolio_text
    from services.store.session import create_engine, create_session_factory

    engine = create_engine(get_settings().database_url)
    try:
        async with create_session_factory(engine)() as session:
            report = await build_portfolio(session, datetime.now(UTC))
    finally:
        await engine.dispose()
    if output == "json":
        return report.model_dump_json(indent=2)
    if output == "csv":
        return portfolio_csv(report)
    if output == "html":
        return portfolio_html(report)
    return portfolio_text(report)


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def api_command(port: int, *, processes: int = 1) -> list[str]:
    """The HTTP API as its own process on loopback: uvicorn serving `services.api.main`."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "services.api.main:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(processes),
        "--log-level",
        "warning",
        "--no-access-log",
    ]


def _wait_for(
    what: str,
    ready: Callable[[], bool],
    seconds: float,
    children: list[subprocess.Popen[bytes]],
) -> None:
    deadline = time.monotonic() + seconds
    while not ready():
        if any(child.poll() is not None for child in children):
            raise SystemExit(f"accord dev: a process exited while waiting for {what}")
        if time.monotonic() > deadline:
            raise SystemExit(f"accord dev: {what} did not come up within {seconds:.0f}s")
        time.sleep(0.2)


def _api_healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def dev(api_port: int, ui_port: int) -> int:
    """Temporal dev server, worker and API on this machine, on SQLite under var/."""
    settings = get_settings()
    var = settings.var_dir
    var.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "ACCORD_DATABASE_URL": settings.database_url,
        "ACCORD_TEMPORAL_ADDRESS": settings.temporal_address,
        "ACCORD_PUBLIC_URL": f"http://127.0.0.1:{api_port}",
    }
    print(f"accord dev: migrating {settings.database_url}", flush=True)
    migrate(settings.database_url)
    tokens = asyncio.run(_seed())
    loaded = asyncio.run(_load_screening_list(settings.screening_list_file, only_if_none=True))
    if loaded:
        print(f"accord dev: screening list: {loaded}", flush=True)
    bin_dir = Path(sys.executable).parent
    host, _, port = settings.temporal_address.rpartition(":")
    children: list[subprocess.Popen[bytes]] = []
    if _port_open(host, int(port)):
        print(f"accord dev: using the Temporal server already at {settings.temporal_address}")
    else:
        children.append(
            subprocess.Popen(
                [
                    str(bin_dir / "temporal"),
                    "server",
                    "start-dev",
                    "--ip",
                    host,
                    "--port",
                    port,
                    "--ui-port",
                    str(ui_port),
                    "--db-filename",
                    str(var / "temporal.db"),
                    "--sqlite-pragma",
                    "journal_mode=wal",
                    "--sqlite-pragma",
                    "synchronous=normal",
                    "--log-level",
                    "error",
                ],
                start_new_session=True,
            )
        )
        _wait_for("Temporal", lambda: _port_open(host, int(port)), 60, children)
    children.append(
        subprocess.Popen(
            [sys.executable, "-m", "services.workers"], env=env, start_new_session=True
        )
    )
    children.append(subprocess.Popen(api_command(api_port), env=env, start_new_session=True))
    try:
        _wait_for(
            "the API", lambda: _api_healthy(f"http://127.0.0.1:{api_port}/healthz"), 60, children
        )
        links = asyncio.run(_sign_in_links(list(tokens), f"http://127.0.0.1:{api_port}"))
        _banner(api_port, ui_port, var, tokens, links)
        stop = _wait_for_stop(children)
    finally:
        _stop_all(children)
    return stop


def _banner(
    api_port: int, ui_port: int, var: Path, tokens: dict[str, str], links: dict[str, str]
) -> None:
    from services.demo import DEMO_USERS

    api = f"http://127.0.0.1:{api_port}"
    minutes = get_settings().sign_in_link_minutes
    lines = [
        "",
        "Accord is running.",
        f"  Web app        {api}/",
        f"  API            {api}/v1   (interactive docs: {api}/docs)",
        f"  Temporal UI    http://127.0.0.1:{ui_port}",
        f"  Data           {var} (kept between runs; sign-in mails without SMTP: {var}/outbox)",
        "",
        f"Demo users: open a sign-in link in the browser (each works once, within {minutes:g}"
        " minutes;",
        "`accord sign-in EMAIL` prints a fresh one), or send the token as"
        " 'Authorization: Bearer <token>':",
    ]
    for demo in DEMO_USERS:
        lines.append(f"  {demo.name:<16} {demo.role:<16} {tokens[demo.email]}")
        lines.append(f"  {'':<16} sign in: {links.get(demo.email, '(inactive)')}")
    officer = tokens[DEMO_USERS[0].email]
    lines += [
        "",
        "Try the API:",
        f"  curl -s -H 'Authorization: Bearer {officer}' {api}/v1/agreements",
        "",
        "Press Ctrl-C to stop everything.",
    ]
    print("\n".join(lines), flush=True)


def _wait_for_stop(children: list[subprocess.Popen[bytes]]) -> int:
    stopping = {"signal": 0}

    def _on_signal(signum: int, _frame: object) -> None:
        stopping["signal"] = signum

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    while not stopping["signal"]:
        for child in children:
            if child.poll() is not None:
                print(f"accord dev: {child.args!r} exited with {child.returncode}; stopping")
                return 1
        time.sleep(0.5)
    print("\naccord dev: stopping", flush=True)
    return 0


def _stop_all(children: list[subprocess.Popen[bytes]]) -> None:
    # API first, then worker (it finishes its tasks), then the Temporal server.
    for child in reversed(children):
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="accord", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate", help="upgrade the database to the newest revision")
    commands.add_parser("seed", help="create the demo groups and users; print their tokens")
    sign_in = commands.add_parser(
        "sign-in", help="print a single-use sign-in link for the web app, for each EMAIL"
    )
    sign_in.add_argument("emails", nargs="+", metavar="EMAIL")
    run = commands.add_parser("dev", help="run Temporal, worker and API on this machine")
    run.add_argument("--port", type=int, default=8000, help="API port")
    run.add_argument("--ui-port", type=int, default=8233, help="Temporal Web UI port")
    screening = commands.add_parser("screening", help="restricted-party screening list")
    screening_commands = screening.add_subparsers(dest="action", required=True)
    load = screening_commands.add_parser(
        "load", help="replace the screening list with FILE (US Consolidated Screening List JSON)"
    )
    load.add_argument("file", type=Path)
    report = commands.add_parser("report", help="print a report")
    report_commands = report.add_subparsers(dest="report", required=True)
    portfolio = report_commands.add_parser("portfolio", help="the portfolio report")
    portfolio.add_argument(
        "--format", choices=("text", "json", "csv", "html"), default="text", dest="output"
    )
    args = parser.parse_args(argv)
    if args.command == "migrate":
        migrate()
    elif args.command == "screening":
        from services.workers.clearance.screening_list import ScreeningListError

        try:
            print(f"loaded {asyncio.run(_load_screening_list(args.file))}")
        except ScreeningListError as err:
            sys.exit(f"accord screening load: {err}")
    elif args.command == "report":
        sys.stdout.write(asyncio.run(_portfolio(args.output)))
    elif args.command == "sign-in":
        settings = get_settings()
        emails = [email.lower() for email in args.emails]
        links = asyncio.run(_sign_in_links(emails, settings.public_url))
        for email in emails:
            print(f"{email:<32} {links.get(email, 'no active user with this e-mail')}")
        if len(links) < len(emails):
            sys.exit(1)
    elif args.command == "seed":
        for email, token in asyncio.run(_seed()).items():
            print(f"{email:<32} {token}")
    else:
        sys.exit(dev(args.port, args.ui_port))
