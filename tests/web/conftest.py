"""Browser tests: real Chromium (Debian's package) driving the web app over real HTTP.

The app runs under uvicorn on loopback, on the same Temporal server, worker and database
as the rest of the suite. Playwright for Python drives /usr/bin/chromium through
`executable_path`: its own browser download cannot work on a machine without internet.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import uvicorn
from playwright.async_api import Browser, BrowserContext, Page, async_playwright
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from services.api.app import create_app
from services.config import ROOT, Settings
from services.demo import DEMO_USERS
from services.store import User
from services.web.auth import create_sign_in_link
from tests.stack import Stack, free_port, running_stack

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# Where the tests save the README's screenshots, when asked: ACCORD_SCREENSHOTS=docs/screenshots
SCREENSHOTS = os.environ.get("ACCORD_SCREENSHOTS")
# The flags a root, headless Chromium needs on a machine with a closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    found = os.environ.get("ACCORD_CHROMIUM") or shutil.which("chromium")
    if not found:
        pytest.fail(
            "Chromium is not installed: `make test` installs Debian's chromium package"
            " (or set ACCORD_CHROMIUM to a Chromium binary)"
        )
    return found


@dataclass
class Web:
    """The web app on a real port, and a way to open a signed-in browser as anyone."""

    url: str
    stack: Stack
    browser: Browser

    async def link_for(self, key: str) -> str:
        """A fresh sign-in link for the demo user with this key (as the banner prints)."""
        email = next(u.email for u in DEMO_USERS if u.key == key)
        async with self.stack.sessions() as session:
            user = await session.scalar(select(User).where(User.email == email))
            assert user is not None
            link = await create_sign_in_link(session, self.stack.settings, user, base_url=self.url)
            await session.commit()
        return link

    async def context(self) -> BrowserContext:
        context = await self.browser.new_context(
            viewport={"width": 1280, "height": 900}, base_url=self.url
        )
        context.set_default_timeout(30_000)
        return context

    async def signed_in(self, key: str) -> Page:
        """A new browser (own cookies) signed in as `key`, on its inbox."""
        context = await self.context()
        page = await context.new_page()
        watch_outside_requests(page)
        await page.goto(await self.link_for(key))
        assert page.url == self.url + "/", page.url
        return page


def watch_outside_requests(page: Page) -> None:
    """Fail the test if the page asks anything of a host other than loopback."""

    def check(request: Any) -> None:
        # chrome:// and chrome-extension:// are the browser's own (its PDF viewer).
        url = urlsplit(request.url)
        if url.scheme in ("http", "https", "ws", "wss") and url.hostname != "127.0.0.1":
            raise AssertionError(f"the page loaded {request.url} from outside Accord")

    page.on("request", check)


async def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it stands."""
    await page.add_script_tag(path=str(AXE))
    result = await page.evaluate("async () => await axe.run(document)")
    assert result["passes"], "axe-core checked nothing"
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"], "nodes": len(v["nodes"])}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


async def screenshot(page: Page, name: str) -> None:
    if SCREENSHOTS:
        await asyncio.to_thread(Path(SCREENSHOTS).mkdir, parents=True, exist_ok=True)
        await page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


@pytest.fixture(scope="session")
async def web_stack(
    base_settings: Settings,
    temporal_client: Client,
    engine: AsyncEngine,
    tokens: dict[str, str],
    screening_list: None,
) -> AsyncIterator[Stack]:
    """A stack of its own whose report tasks open as soon as the agreement is active (a
    lead longer than the reporting period), so a report can be submitted in a test."""
    async with running_stack(
        base_settings, temporal_client, engine, tokens, report_lead_days=400
    ) as stack:
        yield stack


@pytest.fixture(scope="session")
async def web(web_stack: Stack) -> AsyncIterator[Web]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = web_stack.settings.model_copy(update={"public_url": url})
    app = create_app(settings, engine=web_stack.engine, temporal=web_stack.client)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            serving.result()
        await asyncio.sleep(0.05)
    assert AXE.is_file(), "axe-core is missing: `make test` installs it with npm ci"
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=chromium_path(), args=CHROMIUM_ARGS
        )
        try:
            yield Web(url, web_stack, browser)
        finally:
            await browser.close()
            server.should_exit = True
            await serving
