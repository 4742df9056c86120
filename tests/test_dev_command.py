"""`accord dev`, the README's first command, as real processes on loopback."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path

import httpx
import pytest

from tests.factories import proposal
from tests.stack import free_port

ACCORD = Path(sys.executable).parent / "accord"

# `accord dev` runs on its embedded default, SQLite, whichever database the suite is on:
# the SQLite pass runs it, the PostgreSQL pass would only repeat it.
pytestmark = pytest.mark.skipif(
    os.environ.get("ACCORD_TEST_DATABASE", "sqlite") != "sqlite",
    reason="accord dev always runs on SQLite; the SQLite pass runs this test",
)


async def _start(
    env: dict[str, str], api_port: int, ui_port: int
) -> tuple[asyncio.subprocess.Process, str]:
    process = await asyncio.create_subprocess_exec(
        str(ACCORD),
        "dev",
        "--port",
        str(api_port),
        "--ui-port",
        str(ui_port),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert process.stdout is not None
    output = ""
    async with asyncio.timeout(120):
        while "Press Ctrl-C" not in output:
            line = await process.stdout.readline()
            assert line, f"accord dev exited early:\n{output}"
            output += line.decode()
    return process, output


async def _stop(process: asyncio.subprocess.Process) -> int:
    process.send_signal(signal.SIGINT)
    async with asyncio.timeout(60):
        assert process.stdout is not None
        await process.stdout.read()
        return await process.wait()


def _token(banner: str, name: str) -> str:
    match = re.search(rf"{name}\s+\w+\s+(acc_\S+)", banner)
    assert match, banner
    return match.group(1)


def _sign_in_link(banner: str, name: str) -> str:
    match = re.search(rf"{name}\s+\w+\s+acc_\S+\n\s+sign in: (\S+)", banner)
    assert match, banner
    return match.group(1)


async def _sign_in_from_the_banner(
    client: httpx.AsyncClient, banner: str, name: str, title: str
) -> None:
    """The banner's link signs its user in to the web app once; the inbox shows the task,
    with the app's assets served by the same process."""
    link = _sign_in_link(banner, name)
    signed_in = await client.get(link)
    assert signed_in.status_code == 303, signed_in.text
    assert "HttpOnly" in signed_in.headers["set-cookie"]
    inbox = await client.get("/")
    assert inbox.status_code == 200 and "text/html" in inbox.headers["content-type"]
    assert "Your inbox" in inbox.text and title in inbox.text
    assert (await client.get("/static/vendor/htmx.min.js")).status_code == 200
    client.cookies.clear()
    assert (await client.get(link)).status_code == 400


async def test_dev_runs_the_service_and_a_review_survives_a_restart_of_everything(
    tmp_path: Path,
) -> None:
    api_port, ui_port, temporal_port = free_port(), free_port(), free_port()
    env = {
        **os.environ,
        "ACCORD_VAR_DIR": str(tmp_path),
        "ACCORD_DATABASE_URL": f"sqlite:///{tmp_path / 'accord.db'}",
        "ACCORD_TEMPORAL_ADDRESS": f"127.0.0.1:{temporal_port}",
    }
    api = f"http://127.0.0.1:{api_port}"

    process, banner = await _start(env, api_port, ui_port)
    try:
        officer = _token(banner, "Olivia Officer")
        async with httpx.AsyncClient(base_url=api, timeout=30) as client:
            assert (await client.get("/readyz")).json()["status"] == "ready"
            created = await client.post(
                "/v1/proposals", json=proposal(), headers={"Authorization": f"Bearer {officer}"}
            )
            assert created.status_code == 201, created.text
            assert created.json()["status"] == "in_review"
            await _sign_in_from_the_banner(client, banner, "Rita Reviewer", created.json()["title"])
    finally:
        code = await _stop(process)
    assert code == 0
    assert (tmp_path / "temporal.db").exists()

    # Every process stopped mid-review; the second run picks the review up where it was.
    process, banner = await _start(env, api_port, ui_port)
    try:
        assert _token(banner, "Olivia Officer") == officer
        reviewer = {"Authorization": f"Bearer {_token(banner, 'Rita Reviewer')}"}
        async with httpx.AsyncClient(base_url=api, timeout=30) as client:
            listed = await client.get(
                "/v1/agreements", headers={"Authorization": f"Bearer {officer}"}
            )
            assert [a["id"] for a in listed.json()["items"]] == [created.json()["id"]]
            inbox = (await client.get("/v1/tasks?assignee=me", headers=reviewer)).json()
            task_id = inbox["items"][0]["id"]
            decided = await client.post(
                f"/v1/tasks/{task_id}/decision",
                json={"outcome": "approve", "comment": "after the restart"},
                headers=reviewer,
            )
            assert decided.status_code == 200, decided.text
            assert [t["step_key"] for t in decided.json()["open_tasks"]] == ["legal"]
            # No SMTP server here: notifications wait in the in-app inbox.
            notices = (await client.get("/v1/notifications", headers=reviewer)).json()
            assert {(n["kind"], n["status"]) for n in notices} == {("task_assigned", "not_sent")}
    finally:
        assert await _stop(process) == 0
