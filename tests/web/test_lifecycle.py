"""A whole agreement in the browser: every step by its own user, in real Chromium."""

from __future__ import annotations

import re
import uuid

from playwright.async_api import expect

from tests.web.conftest import Web, axe_violations, screenshot
from tests.web.pages import (
    decide,
    fill_proposal,
    open_task,
    submit_proposal,
    task_on,
    unique,
    wait_for_status,
)


async def test_a_proposal_from_the_form_reaches_active_and_reports_in_the_browser(
    web: Web,
) -> None:
    # IP counsel registers the patent in the registry.
    counsel = await web.signed_in("counsel")
    identifier = f"US-{uuid.uuid4().int % 10**8:08d}-B2"
    await counsel.get_by_role("link", name="IP assets").click()
    await counsel.get_by_role("link", name="Add an asset").click()
    await counsel.get_by_label("Identifier").fill(identifier)
    await counsel.get_by_label("Type").select_option("patent")
    await counsel.get_by_label("Jurisdiction").fill("US")
    await counsel.get_by_label("Filed on").fill("2019-03-01")
    await counsel.get_by_label("Title").fill("Perovskite tandem solar cell")
    await counsel.get_by_label("Owner").fill("State University")
    await counsel.get_by_label("Status").select_option("granted")
    await counsel.get_by_label("Inventor 1 name").fill("Ada Lovelace")
    await counsel.get_by_label("Assignment recorded").check()
    await counsel.get_by_role("button", name="Add asset").click()
    await expect(counsel.get_by_role("heading", level=1)).to_contain_text(identifier)
    await screenshot(counsel, "ip-asset")

    # The officer submits the proposal through the form, picking the asset by search.
    officer = await web.signed_in("officer")
    title = unique("Perovskite license")
    await fill_proposal(officer, title, asset=identifier)
    await screenshot(officer, "proposal-form")
    agreement_id = await submit_proposal(officer)
    await expect(officer.get_by_role("status")).to_contain_text("review has started")
    assert (await officer.locator(".agreement-head .badge").inner_text()) == "In review"
    await expect(officer.get_by_text(identifier).first).to_be_visible()

    # Two reviewers approve their steps from their inboxes.
    rita = await web.signed_in("reviewer1")
    await screenshot(rita, "inbox")
    await open_task(rita, title, "Technical review")
    await screenshot(rita, "agreement-review")
    await decide(rita, "Approve", "Technically sound.")
    await expect(rita.get_by_role("status")).to_contain_text("decision is recorded")
    ravi = await web.signed_in("reviewer2")
    await open_task(ravi, title, "Legal review")
    await decide(ravi, "Approve", "Terms are standard.")

    # Counsel reads the findings and clears with a condition.
    await open_task(counsel, title, "IP clearance")
    await expect(counsel.get_by_role("heading", name="IP clearance findings")).to_be_visible()
    await task_on(counsel).get_by_label(re.compile("^Conditions")).fill("Annual audit right")
    await decide(counsel, "Clear with conditions")

    # The two signatories sign the document shown, in order.
    sid = await web.signed_in("signatory1")
    await open_task(sid, title, "Signature")
    shown = await sid.locator("iframe.document").get_attribute("src")
    digest = await sid.locator("input[name=document_sha256]").input_value()
    assert shown is not None and shown.endswith(f"sha256={digest}")
    await expect(sid.get_by_text(digest).first).to_be_visible()
    await screenshot(sid, "agreement-signature")
    assert await axe_violations(sid) == []
    await decide(sid, "Sign")
    sofia = await web.signed_in("signatory2")
    await open_task(sofia, title, "Signature")
    await decide(sofia, "Sign")
    await wait_for_status(sofia, "Active")

    # The officer sees it active, every stage timed, and submits the first report.
    await officer.goto(f"/agreements/{agreement_id}")
    await wait_for_status(officer, "Active")
    stages = officer.get_by_role("navigation", name="Lifecycle stage")
    await expect(stages.locator("[aria-current=step]")).to_contain_text("Active")
    await expect(stages.locator(".stage.done")).to_have_count(3)
    await expect(officer.get_by_role("table", name="Signatures").get_by_role("row")).to_have_count(
        3
    )
    await open_task(officer, title, "Report")
    report = task_on(officer)
    await report.get_by_label("Narrative").fill("First sales in Germany.")
    await report.get_by_label(re.compile("^Income")).fill("1200.00")
    await report.get_by_label("Units sold").fill("40")
    await decide(officer, "Submit report")
    await expect(officer.get_by_role("status")).to_contain_text("decision is recorded")
    obligations = officer.get_by_role("region", name="Obligations")
    await expect(obligations).to_contain_text("First sales in Germany.")
    await expect(obligations).to_contain_text("Met")
    await screenshot(officer, "agreement-active")
    assert await axe_violations(officer) == []
    for page in (counsel, officer, rita, ravi, sid, sofia):
        await page.context.close()
