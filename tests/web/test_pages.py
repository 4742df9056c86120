"""The other pages people use: inbox filters, notifications, registry, people, portfolio."""

from __future__ import annotations

import re

from playwright.async_api import expect

from tests.factories import proposal, register_asset, submit
from tests.web.conftest import Web
from tests.web.pages import fill_proposal, unique


async def test_the_inbox_filters_and_a_notice_opens_its_task(web: Web) -> None:
    license_title = unique("Inbox license")
    exchange_title = unique("Inbox exchange")
    await submit(web.stack, proposal(title=license_title))
    await submit(
        web.stack,
        proposal(
            title=exchange_title,
            kind="exchange_program",
            parties=[
                {"name": "State University", "country": "US", "role": "partner"},
                {"name": "Kyoto Institute", "country": "JP", "role": "partner"},
            ],
        ),
    )
    rita = await web.signed_in("reviewer1")
    table = rita.locator("#inbox-table")
    await expect(table).to_contain_text(license_title)
    await expect(table).to_contain_text(exchange_title)
    await expect(rita.locator(".counts")).to_contain_text("Review:")

    # Choosing a kind narrows the table in place (htmx) and the address keeps the filter.
    await rita.get_by_label("Agreement kind").select_option("exchange_program")
    await expect(table).not_to_contain_text(license_title)
    await expect(table).to_contain_text(exchange_title)
    await expect(rita).to_have_url(re.compile(r"kind=exchange_program"))
    await rita.get_by_label("Stage").select_option("signature")
    await expect(table).to_contain_text("Nothing waits for you under these filters")

    # Each assignment notice links to its task, which opens in its agreement.
    await rita.get_by_role("link", name="Notifications").click()
    note = rita.get_by_role("listitem").filter(has_text=exchange_title).first
    await note.get_by_role("link", name=re.compile("^Open the task")).click()
    await expect(rita.get_by_role("heading", level=1)).to_have_text(exchange_title)
    await expect(rita.locator("article.task.focused")).to_contain_text("Technical review")
    await rita.context.close()


async def test_counsel_edits_an_asset_and_records_a_license(web: Web) -> None:
    registered = await register_asset(web.stack)
    counsel = await web.signed_in("counsel")
    await counsel.get_by_role("link", name="IP assets").click()
    await counsel.get_by_label("Search").fill(registered["identifier"])
    await counsel.get_by_role("button", name="Search").click()
    await counsel.get_by_role("link", name=registered["identifier"]).click()

    edit = counsel.get_by_role("region", name="Edit")
    await edit.get_by_label("Owner").fill("State University Research Foundation")
    await edit.get_by_role("button", name="Save changes").click()
    await expect(counsel.get_by_role("status")).to_contain_text("The IP asset is saved")
    await expect(counsel.locator(".facts")).to_contain_text("State University Research Foundation")

    await counsel.get_by_text("Record a license granted outside Accord").click()
    licenses = counsel.get_by_role("region", name="Licenses granted")
    await licenses.get_by_label("Licensee").fill("Sol Corp")
    await licenses.get_by_label("Territories").fill("US, XX9")
    await licenses.get_by_label("Starts on").fill("2024-01-01")
    await licenses.get_by_role("button", name="Record license").click()
    # A wrong territory is named beside its field; the rest is kept.
    await expect(licenses.get_by_role("alert")).to_contain_text("Please correct")
    await expect(licenses.get_by_label("Licensee")).to_have_value("Sol Corp")
    await licenses.get_by_label("Territories").fill("US, CA")
    await licenses.get_by_role("button", name="Record license").click()
    await expect(counsel.get_by_role("status")).to_contain_text("The license is recorded")
    await expect(counsel.get_by_role("table", name=re.compile("Licenses on"))).to_contain_text(
        "Sol Corp"
    )
    # Reviewers read the registry but have no form to change it.
    rita = await web.signed_in("reviewer1")
    await rita.goto(f"/ip-assets/{registered['identifier']}")
    await expect(rita.get_by_role("button", name="Save changes")).to_have_count(0)
    for page in (counsel, rita):
        await page.context.close()


async def test_an_admin_adds_a_person_and_sees_the_token_once(web: Web) -> None:
    admin = await web.signed_in("admin")
    await admin.get_by_role("link", name="People").click()
    email = f"{unique('nora').replace(' ', '.')}@accord.test"
    await admin.get_by_label("Name").fill("Nora Newcomer")
    await admin.get_by_label("E-mail").fill(email)
    await admin.get_by_label("Role").select_option("reviewer")
    await admin.get_by_label("Legal review").check()
    await admin.get_by_role("button", name="Add person").click()
    shown = admin.get_by_role("status")
    await expect(shown).to_contain_text("Nora Newcomer can now use Accord")
    token = (await shown.locator("code").inner_text()).strip()
    assert token.startswith("acc_")
    me = await web.stack.client_for(token).get("/v1/me")
    assert me.status_code == 200 and me.json()["email"] == email
    await expect(admin.get_by_role("row").filter(has_text=email)).to_contain_text("Legal review")
    await admin.reload()
    await expect(admin.get_by_text(token)).to_have_count(0)

    # The same address twice is a readable conflict, not an error page.
    await admin.get_by_label("Name").fill("Nora Again")
    await admin.get_by_label("E-mail").fill(email)
    await admin.get_by_label("Role").select_option("reviewer")
    await admin.get_by_role("button", name="Add person").click()
    await expect(admin.get_by_role("alert")).to_contain_text("exists")
    await admin.context.close()


async def test_the_portfolio_dashboard_charts_the_report_and_downloads_it(web: Web) -> None:
    await submit(web.stack, proposal(title=unique("Portfolio")))
    officer = await web.signed_in("officer")
    await officer.get_by_role("link", name="Portfolio", exact=True).click()
    for chart in (
        "Agreements by status",
        "Agreements by kind",
        "Agreements by party country",
        "Median days per stage",
        "Agreements executed per month",
        "Overdue tasks by assignee",
    ):
        await expect(officer.get_by_role("img", name=chart)).to_be_visible()
    async with officer.expect_download() as csv_download:
        await officer.get_by_role("link", name="Download CSV").click()
    csv = await csv_download.value
    assert csv.suggested_filename.endswith(".csv")
    assert "status" in await (await officer.context.request.get("/portfolio.csv")).text()
    html = await officer.context.request.get("/portfolio.html")
    assert html.ok and "Accord portfolio report" in await html.text()
    # Reviewers have no portfolio: no link, and the address says so.
    rita = await web.signed_in("reviewer1")
    await expect(rita.get_by_role("link", name="Portfolio", exact=True)).to_have_count(0)
    answer = await rita.goto("/portfolio")
    assert answer is not None and answer.status == 403
    for page in (officer, rita):
        await page.context.close()


async def test_the_agreement_list_searches_filters_and_pages(web: Web) -> None:
    word = unique("Zephyrine").split()[1]
    titles = [f"Zephyrine {word} {n}" for n in range(3)]
    for title in titles:
        await submit(web.stack, proposal(title=title))
    admin = await web.signed_in("admin")
    await admin.goto(f"/agreements?q={word}&limit=2")
    rows = admin.locator("#agreements-table tbody tr")
    await expect(rows).to_have_count(2)
    await expect(rows.first).to_contain_text(titles[2])  # newest first
    await admin.get_by_role("link", name="Next page").click()
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text(titles[0])
    await expect(admin.get_by_role("link", name="Next page")).to_have_count(0)

    # The filter form: "Any status" sends an empty choice, which means any.
    await admin.goto("/agreements")
    await admin.get_by_label("Search").fill(word)
    await admin.get_by_label("Status").select_option("in_review")
    await admin.get_by_role("button", name="Search").click()
    await expect(rows).to_have_count(3)
    await admin.get_by_label("Status").select_option("")
    await expect(rows).to_have_count(3)
    await admin.get_by_label("Status").select_option("active")
    await expect(admin.locator("#agreements-table")).to_contain_text("No agreement matches")
    answer = await admin.goto("/agreements?status=sideways")
    assert answer is not None and answer.status == 422
    await expect(admin.get_by_role("alert")).to_contain_text("use one of")
    await admin.context.close()


async def test_the_proposal_form_adapts_to_the_kind_and_a_double_post_makes_one_agreement(
    web: Web,
) -> None:
    officer = await web.signed_in("officer")
    await officer.goto("/agreements/new")
    royalty = officer.get_by_label("Royalty rate (%)")
    export = officer.get_by_role("group", name="Export control")
    await expect(royalty).to_be_visible()
    await expect(export).to_be_hidden()
    await officer.get_by_label("Kind").select_option("exchange_program")
    await expect(royalty).to_be_hidden()
    await expect(officer.locator("#parties-0-role")).to_have_value("partner")
    await officer.get_by_label("Kind").select_option("defense_sharing")
    await expect(export).to_be_visible()
    await officer.get_by_role("button", name="Add another party").click()
    await expect(officer.get_by_label("Party 3 name")).to_be_focused()

    # The same form posted twice (a double click, a retried request) is one agreement.
    await fill_proposal(officer, unique("Posted twice"))
    form = officer.locator("form.proposal")
    fields = await form.evaluate(
        "f => Array.from(new FormData(f).entries()).filter(([k, v]) => !(v instanceof File))"
    )
    answers = [
        await officer.request.post(
            "/agreements/new",
            multipart=dict(fields),
            max_redirects=0,
            headers={"Origin": web.url},
        )
        for _ in range(2)
    ]
    assert [a.status for a in answers] == [303, 303]
    first, second = (a.headers["location"].split("?")[0] for a in answers)
    assert first == second and first.startswith("/agreements/")
    await officer.context.close()
