"""What a person does in the browser, step by step, found by what they see (roles, labels)."""

from __future__ import annotations

import re
import uuid

from playwright.async_api import Locator, Page, Response, expect

DEADLINE_SECONDS = 60


async def open_task(page: Page, title: str, step: str) -> None:
    """From the inbox, open `step` of the agreement `title` (waiting until it arrives)."""
    for _ in range(DEADLINE_SECONDS * 2):
        await page.goto("/")
        row = page.get_by_role("row").filter(has_text=title)
        link = row.get_by_role("link", name=step)
        if await link.count():
            await link.first.click()
            await expect(page.get_by_role("heading", level=1)).to_have_text(title)
            return
        await page.wait_for_timeout(500)
    raise AssertionError(f"{step} of {title!r} never reached the inbox")


def task_on(page: Page) -> Locator:
    """The task the page was opened on (from the inbox or a notice)."""
    return page.locator("article.task.focused")


async def decide(page: Page, button: str, comment: str = "") -> Response | None:
    """Press an outcome's button on the task the page was opened on, with a comment;
    returns the answer to the form's post."""
    task = task_on(page)
    if comment:
        await task.get_by_role("textbox", name=re.compile("^Comment")).fill(comment)
    async with page.expect_navigation() as navigation:
        await task.get_by_role("button", name=button, exact=True).click()
    return await navigation.value


async def status_of(page: Page) -> str:
    return (await page.locator(".agreement-head .badge").inner_text()).strip()


async def wait_for_status(page: Page, status: str) -> None:
    """Reload the agreement page until it shows `status`."""
    for _ in range(DEADLINE_SECONDS * 2):
        if await status_of(page) == status:
            return
        await page.wait_for_timeout(500)
        await page.reload()
    raise AssertionError(f"the agreement never became {status!r}; it is {await status_of(page)}")


def unique(title: str) -> str:
    return f"{title} {uuid.uuid4().hex[:6]}"


async def fill_proposal(
    page: Page,
    title: str,
    *,
    asset: str | None = None,
    value: str = "250000",
    kind: str = "license",
) -> None:
    """The new-proposal form for a license between a university and a company."""
    await page.goto("/agreements/new")
    await page.get_by_label("Title").fill(title)
    await page.get_by_label("Kind").select_option(kind)
    await page.get_by_label("Summary").fill("Exclusive license of the tandem-cell patent family.")
    await page.get_by_label("Estimated value").fill(value)
    await page.get_by_label("Party 1 name").fill("State University")
    await page.locator("#parties-0-country").fill("US")
    await page.locator("#parties-0-role").select_option("licensor")
    await page.get_by_label("Party 2 name").fill("Helio GmbH")
    await page.locator("#parties-1-country").fill("DE")
    await page.locator("#parties-1-role").select_option("licensee")
    if asset is not None:
        await page.get_by_label("Find registered assets").fill(asset[:12])
        pick = page.get_by_role("checkbox", name=re.compile(re.escape(asset)))
        await pick.check()
    await page.get_by_label("Term (months)").fill("60")
    await page.get_by_label("Report every (months)").fill("6")
    await page.get_by_label("Territories").fill("DE, FR")
    await page.get_by_label("Royalty rate (%)").fill("3.5")
    await page.get_by_label("Signatory 1 e-mail").fill("sid.signatory@accord.test")
    await page.locator("#signatories-0-on_behalf_of").fill("State University")
    await page.get_by_label("Signatory 2 e-mail").fill("sofia.signatory@accord.test")
    await page.locator("#signatories-1-on_behalf_of").fill("Helio GmbH")


async def submit_proposal(page: Page) -> str:
    """Submit the filled form; returns the new agreement's id."""
    await page.get_by_role("button", name="Submit proposal").click()
    await page.wait_for_url(re.compile(r"/agreements/[0-9a-f-]{36}\?done=submitted"))
    return page.url.split("/agreements/")[1].split("?")[0]
