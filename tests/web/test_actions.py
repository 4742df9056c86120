"""Deciding, revising and refusing in the browser: what each person sees and may do."""

from __future__ import annotations

import re

from playwright.async_api import expect

from tests.factories import current_task, proposal, register_asset, submit, to_clearance
from tests.web.conftest import Web, screenshot
from tests.web.pages import decide, open_task, task_on, unique, wait_for_status


async def test_request_changes_then_revise_in_the_browser_restarts_the_review(web: Web) -> None:
    title = unique("Solar license to revise")
    created = await submit(web.stack, proposal(title=title))

    # The reviewer works from the keyboard: the page focuses the task it was opened on.
    rita = await web.signed_in("reviewer1")
    await open_task(rita, title, "Technical review")
    await expect(task_on(rita)).to_be_focused()
    await rita.keyboard.press("Tab")
    comment = task_on(rita).get_by_role("textbox", name=re.compile("^Comment"))
    await expect(comment).to_be_focused()
    await rita.keyboard.type("Narrow the field of use to tandem cells.")
    await rita.keyboard.press("Tab")
    await expect(task_on(rita).get_by_role("button", name="Approve")).to_be_focused()
    await rita.keyboard.press("Tab")
    await expect(task_on(rita).get_by_role("button", name="Request changes")).to_be_focused()
    async with rita.expect_navigation():
        await rita.keyboard.press("Enter")
    await wait_for_status(rita, "Changes requested")

    officer = await web.signed_in("officer")
    await officer.goto(f"/agreements/{created['id']}")
    await officer.get_by_role("link", name="Revise the proposal").click()
    await expect(officer.get_by_label("Title")).to_have_value(title)
    await expect(officer.locator("#parties-1-name")).to_have_value("Helio GmbH")
    await expect(officer.get_by_label("Field of use")).to_have_value("photovoltaics")

    # A wrong country is refused beside its field, and nothing typed is lost.
    revised_title = f"{title} (tandem cells)"
    await officer.get_by_label("Title").fill(revised_title)
    await officer.get_by_label("Field of use").fill("tandem photovoltaic cells")
    await officer.locator("#parties-1-country").fill("D1")
    await officer.get_by_label(re.compile("^What you changed")).fill("Narrowed as asked.")
    await officer.get_by_role("button", name="Submit revision").click()
    await expect(officer.locator("#parties-1-country-error")).to_contain_text("pattern")
    await expect(officer.locator("#parties-1-country")).to_have_attribute("aria-invalid", "true")
    await expect(officer.get_by_label("Title")).to_have_value(revised_title)
    await expect(officer.get_by_label("Field of use")).to_have_value("tandem photovoltaic cells")
    await screenshot(officer, "revise-form-error")

    await officer.locator("#parties-1-country").fill("DE")
    await officer.get_by_role("button", name="Submit revision").click()
    await officer.wait_for_url(re.compile(r"\?done=revised"))
    await expect(officer.get_by_role("heading", level=1)).to_have_text(revised_title)
    assert (await officer.locator(".agreement-head .badge").inner_text()) == "In review"
    changes = officer.locator(".revisions")
    await expect(changes).to_contain_text("Title, Terms")
    await expect(changes).to_contain_text("Narrowed as asked.")
    await expect(officer.get_by_role("heading", name="Review, round 2")).to_be_visible()
    await expect(officer.locator(".step").first).to_contain_text("In progress")
    await open_task(rita, revised_title, "Technical review")
    for page in (rita, officer):
        await page.context.close()


async def test_a_task_closed_in_another_tab_is_a_clear_message(web: Web) -> None:
    title = unique("Two tabs")
    await submit(web.stack, proposal(title=title))
    rita = await web.signed_in("reviewer1")
    await open_task(rita, title, "Technical review")
    other_tab = await rita.context.new_page()
    await other_tab.goto(rita.url)

    await decide(rita, "Approve", "Sound.")
    answer = await decide(other_tab, "Approve", "Sound, from the other tab.")
    assert answer is not None and answer.status == 409
    alert = other_tab.get_by_role("alert")
    await expect(alert).to_contain_text("This can no longer be done.")
    await expect(alert).to_contain_text("task is done; it takes no more decisions")
    # The page shows the agreement as it stands: the technical step approved.
    await expect(other_tab.locator(".step").first).to_contain_text("Approved")
    await screenshot(other_tab, "task-closed-meanwhile")
    await rita.context.close()


async def test_people_see_only_the_buttons_they_may_press_and_forged_posts_are_refused(
    web: Web,
) -> None:
    title = unique("Who may act")
    created = await submit(web.stack, proposal(title=title))
    task = await current_task(web.stack, created["id"])
    page_of = f"/agreements/{created['id']}"

    # Sam reviews security only: he may read the agreement but not decide its technical step.
    sam = await web.signed_in("security")
    await sam.goto(page_of)
    await expect(sam.get_by_role("heading", name="Technical review")).to_be_visible()
    for button in ("Approve", "Request changes", "Reject", "Withdraw", "Terminate"):
        await expect(sam.get_by_role("button", name=button)).to_have_count(0)
    await expect(sam.get_by_role("link", name="Revise the proposal")).to_have_count(0)
    # A forged post with his own valid token is refused as the API would refuse it.
    token = await sam.locator("input[name=csrf_token]").first.input_value()
    forged = await sam.request.post(
        f"/tasks/{task['id']}/decision", form={"csrf_token": token, "outcome": "approve"}
    )
    assert forged.status == 403
    assert "or a member of its group, may decide it" in await forged.text()

    refused = await sam.goto(f"{page_of}/revise")
    assert refused is not None and refused.status == 403

    officer = await web.signed_in("officer")
    in_review = await officer.goto(f"{page_of}/revise")
    assert in_review is not None and in_review.status == 409
    await expect(officer.get_by_role("alert")).to_contain_text("only changes_requested")
    await officer.goto(page_of)
    await expect(officer.get_by_role("button", name="Approve")).to_have_count(0)
    await expect(officer.get_by_text("Withdraw this agreement")).to_be_visible()
    await expect(officer.get_by_text("Terminate this agreement")).to_have_count(0)
    admin = await web.signed_in("admin")
    await admin.goto(page_of)
    await expect(admin.get_by_text("Reassign this task")).to_be_visible()
    await expect(admin.get_by_text("Terminate this agreement")).to_be_visible()

    # Rita may decide, but not by a post without her session's token, nor from another site.
    rita = await web.signed_in("reviewer1")
    no_token = await rita.request.post(f"/tasks/{task['id']}/decision", form={"outcome": "approve"})
    assert no_token.status == 403
    assert "security token" in await no_token.text()
    rita_token = await rita.locator("input[name=csrf_token]").first.input_value()
    other_origin = await rita.request.post(
        f"/tasks/{task['id']}/decision",
        form={"csrf_token": rita_token, "outcome": "approve"},
        headers={"Origin": "http://evil.test"},
    )
    assert other_origin.status == 403
    # A page on another site that posts a form to Accord in Rita's browser.
    await rita.context.route(
        "http://evil.test/**",
        lambda route: route.fulfill(
            content_type="text/html",
            body=(
                f'<form method="post" action="{web.url}/tasks/{task["id"]}/decision">'
                '<input name="outcome" value="approve"></form>'
                "<script>document.forms[0].submit()</script>"
            ),
        ),
    )
    attacker = await rita.context.new_page()
    async with attacker.expect_navigation(url=re.compile(re.escape(web.url))) as navigation:
        await attacker.goto("http://evil.test/")
    answer = await navigation.value
    assert answer is not None and answer.status == 403
    still = await current_task(web.stack, created["id"])
    assert still["id"] == task["id"] and still["status"] == "open" and still["decisions"] == []
    for page in (sam, officer, admin, rita):
        await page.context.close()


async def test_counsel_dismisses_a_false_positive_then_may_clear(web: Web) -> None:
    title = unique("Screening hit")
    # A dismissal is remembered for the party: a name no other test screens, so that a
    # hit they expect is not dismissed here first (the session shares one database).
    body = proposal(
        title=title,
        parties=[
            {"name": "State University", "country": "US", "role": "licensor"},
            {"name": "Dahua Technology", "country": "CN", "role": "licensee"},
        ],
        signatories=[{"email": "sid.signatory@accord.test", "on_behalf_of": "State University"}],
    )
    task = await to_clearance(web.stack, body)
    counsel = await web.signed_in("counsel")
    await counsel.goto(f"/tasks/{task['id']}")
    card = task_on(counsel)
    await expect(card).to_contain_text("Dahua Technology")
    # A plain clear is refused while a critical finding is open: it is not offered.
    await expect(card.get_by_role("button", name="Clear", exact=True)).to_have_count(0)
    await expect(card).to_contain_text("A plain clear is not offered")
    await expect(card.get_by_role("button", name="Clear with conditions")).to_be_visible()

    findings = counsel.get_by_role("region", name="IP clearance findings")
    await findings.get_by_text("Evidence").first.click()
    await expect(findings).to_contain_text("Zhejiang Dahua Technology Co., Ltd.")
    await findings.get_by_text("Dismiss as a false positive").click()
    reason = findings.get_by_label("Why is this a false positive?")
    await expect(reason).to_have_attribute("required", "")
    await findings.get_by_label("Why is this a false positive?").fill(
        "A different, unlisted company of that name; checked the trade register."
    )
    await findings.get_by_role("button", name="Dismiss finding").click()
    await expect(counsel.get_by_role("status")).to_contain_text("dismissed as a false positive")
    await expect(findings).to_contain_text("Dismissed")

    await counsel.goto(f"/tasks/{task['id']}")
    await decide(counsel, "Clear")
    await wait_for_status(counsel, "In signature")
    await counsel.context.close()


async def test_forms_posted_in_shapes_no_page_sends_are_refused_never_a_500(web: Web) -> None:
    """Hand-made posts: a group where a value belongs, a value where a group belongs,
    rows with holes. Each is a 4xx page naming what is wrong; nothing is written."""
    created = await submit(web.stack, proposal(title=unique("Odd shapes")))
    task = await current_task(web.stack, created["id"])
    registered = await register_asset(web.stack)
    admin = await web.signed_in("admin")
    token = await admin.locator("input[name=csrf_token]").first.input_value()
    posts = {
        "/agreements/new": [
            {"title": "x", "terms": "60", "parties": "State University", "export_control": "EAR"},
            {
                "title-0": "x",
                "parties-a-name": "U",
                "signatories-0": "sid",
                "terms-milestones": "m",
            },
            {"parties-0-name-extra": "U", "terms-territories-0": "DE", "ip_assets_extra-0": "x"},
        ],
        f"/tasks/{task['id']}/decision": [
            {"outcome-0": "approve"},
            {"outcome": "reject", "comment-0": "x"},
            {"outcome": "approve", "conditions-0": "x", "report": "x"},
        ],
        f"/tasks/{task['id']}/assignment": [
            {"assignee-0": "user:x", "reason": "r"},
            {"assignee": "group:nobody", "due_at-0": "2027-01-01", "reason": "r"},
            {"assignee": "user:not-a-uuid", "reason": "r", "due_at": "yesterday"},
        ],
        "/ip-assets/new": [
            {"identifier": "X-1", "inventors": "Ada", "funding": "NSF"},
            {"identifier": "X-2", "inventors-0": "Ada", "funding-0-source-x": "y"},
        ],
        f"/ip-assets/{registered['identifier']}": [
            {"inventors": "Ada", "status-0": "granted"},
            {"expires_on": "never"},
        ],
        f"/ip-assets/{registered['identifier']}/licenses": [
            {"licensee": "L", "territories-x": "US", "starts_on": "2024-01-01"},
            {"licensee-0": "L", "territories": "US", "starts_on": "soon"},
        ],
        f"/agreements/{created['id']}/withdrawal": [{"reason-0": "x"}],
        f"/agreements/{created['id']}/termination": [{"reason-a": "x"}],
    }
    for path, bodies in posts.items():
        for body in bodies:
            answer = await admin.request.post(
                path, form={"csrf_token": token, **body}, max_redirects=0
            )
            assert 400 <= answer.status < 500, (path, body, answer.status, await answer.text())
            assert "Internal Server Error" not in await answer.text()
    still = await current_task(web.stack, created["id"])
    assert still["id"] == task["id"] and still["decisions"] == []
    await admin.context.close()
