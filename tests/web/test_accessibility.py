"""axe-core on every page, and /docs working with nothing from outside."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from tests.factories import current_task, decide, proposal, register_asset, submit
from tests.factories import to_clearance as reviewed_to_clearance
from tests.web.conftest import Web, axe_violations, screenshot, watch_outside_requests
from tests.web.pages import unique


async def check(page: Page, path: str, problems: dict[str, object]) -> None:
    answer = await page.goto(path)
    assert answer is not None and answer.status < 500, (path, answer and answer.status)
    found = await axe_violations(page)
    if found:
        problems[path] = found


async def test_axe_finds_no_serious_violation_on_any_page(web: Web) -> None:
    """Every page; the signature and active stages are checked where the lifecycle test
    reaches them."""
    stack = web.stack
    in_review = await submit(stack, proposal(title=unique("Axe review")))
    to_revise = await submit(stack, proposal(title=unique("Axe revise")))
    task = await current_task(stack, to_revise["id"])
    answer = await decide(stack, "reviewer1", task["id"], "request_changes", "Say more.")
    assert answer.status_code == 200, answer.text
    # An unregistered asset and a watch-list party give findings with evidence to show.
    clearance = await reviewed_to_clearance(
        stack,
        proposal(title=unique("Axe clearance"), ip_assets=["US-00000000-B9"]),
    )
    registered = await register_asset(stack)

    problems: dict[str, object] = {}
    anonymous = await (await web.context()).new_page()
    watch_outside_requests(anonymous)
    await check(anonymous, "/sign-in", problems)

    admin = await web.signed_in("admin")
    for path in (
        "/",
        "/agreements",
        "/agreements?status=in_review&q=Axe",
        "/agreements/new",
        f"/agreements/{in_review['id']}",
        f"/agreements/{clearance['agreement_id']}",
        f"/agreements/{to_revise['id']}/revise",
        "/ip-assets",
        "/ip-assets/new",
        f"/ip-assets/{registered['identifier']}",
        "/users",
        "/groups",
        "/portfolio",
        "/notifications",
        "/agreements/00000000-0000-0000-0000-000000000000",
    ):
        await check(admin, path, problems)
    await screenshot(admin, "not-found")
    await admin.goto("/portfolio")
    await screenshot(admin, "portfolio")
    # The charts' words stay legible: a drawing scaled down to its card shrank them to 6 px.
    heights = await admin.locator(".chart text").evaluate_all(
        "texts => texts.map(t => t.getBoundingClientRect().height)"
    )
    assert heights and min(heights) >= 11, heights
    await admin.goto("/agreements")
    await screenshot(admin, "agreements")

    # A form sent back with its errors.
    await admin.goto("/agreements/new")
    await admin.get_by_role("button", name="Submit proposal").click()
    await expect(admin.get_by_role("alert")).to_contain_text("Please correct the marked fields")
    found = await axe_violations(admin)
    if found:
        problems["/agreements/new (with errors)"] = found

    # Pages as the people who act on them see them.
    rita = await web.signed_in("reviewer1")
    await check(rita, "/", problems)
    await check(rita, f"/agreements/{in_review['id']}", problems)
    counsel = await web.signed_in("counsel")
    await check(counsel, f"/agreements/{clearance['agreement_id']}", problems)
    await screenshot(counsel, "agreement-clearance")
    await check(counsel, f"/tasks/{clearance['id']}", problems)
    officer = await web.signed_in("officer")
    await check(officer, "/", problems)

    assert not problems, problems
    for page in (anonymous, admin, rita, counsel, officer):
        await page.context.close()


async def test_the_api_docs_work_with_nothing_from_outside(web: Web) -> None:
    page = await (await web.context()).new_page()
    watch_outside_requests(page)
    await page.goto("/docs")
    await expect(page.locator(".swagger-ui .info .title")).to_contain_text("Accord")
    await expect(page.get_by_text("/v1/proposals").first).to_be_visible()
    html = await page.content()
    assert not re.search(r"(src|href)=\"https?://(?!127\.0\.0\.1)", html)
    await page.context.close()


async def test_the_app_is_usable_on_a_tablet(web: Web) -> None:
    """At a tablet's width the navigation and the task's buttons stay on screen."""
    title = unique("Tablet")
    created = await submit(web.stack, proposal(title=title))
    rita = await web.signed_in("reviewer1")
    await rita.set_viewport_size({"width": 768, "height": 1024})
    await rita.goto(f"/agreements/{created['id']}")
    for name in ("Inbox", "Agreements", "Notifications"):
        box = await rita.get_by_role("link", name=name, exact=True).bounding_box()
        assert box is not None and box["x"] + box["width"] <= 768
    approve = rita.get_by_role("button", name="Approve")
    await approve.scroll_into_view_if_needed()
    box = await approve.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 768
    width = await rita.evaluate("document.documentElement.scrollWidth")
    assert width <= 768, f"the page scrolls sideways: {width}px"
    await screenshot(rita, "agreement-tablet")
    await rita.context.close()
