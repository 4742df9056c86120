"""Signing in by link (e-mailed or from the banner), the session cookie, and signing out."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.async_api import expect
from sqlalchemy import update

from services.store import SignInLink
from services.store.base import utcnow
from tests.stack import Mailbox
from tests.web.conftest import Web, screenshot, watch_outside_requests


async def test_a_sign_in_link_by_mail_opens_a_session_that_sign_out_ends(
    web: Web, mailbox: Mailbox
) -> None:
    context = await web.context()
    page = await context.new_page()
    watch_outside_requests(page)
    await page.goto("/notifications")
    await expect(page).to_have_url(re.compile(r"/sign-in\?next=/notifications$"))
    await screenshot(page, "sign-in")
    await page.get_by_label("E-mail address").fill("Rita.Reviewer@accord.test")
    await page.get_by_role("button", name="E-mail me a sign-in link").click()
    await expect(page.get_by_role("status")).to_contain_text("a sign-in link is on its way")

    mails = await mailbox.wait_for(
        lambda m: (
            m["To"] == "rita.reviewer@accord.test" and m["Subject"] == "Your Accord sign-in link"
        )
    )
    link = re.search(r"http://\S+", mails[-1].get_content())
    assert link is not None and link.group().startswith(web.url + "/sign-in/link?token=")
    await page.goto(link.group())
    await expect(page).to_have_url(web.url + "/notifications")
    await expect(page.get_by_role("heading", name="Notifications")).to_be_visible()

    cookie = next(c for c in await context.cookies() if c["name"] == "accord_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert not cookie["secure"]  # served over plain HTTP here; Secure over TLS

    # The link worked once.
    again = await (await web.context()).new_page()
    answer = await again.goto(link.group())
    assert answer is not None and answer.status == 400
    await expect(again.get_by_role("alert")).to_contain_text("expired or was already used")

    # Signing out ends the session on the server: the old cookie opens nothing.
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("status")).to_contain_text("You are signed out")
    stale = await web.context()
    await stale.add_cookies([cookie])  # type: ignore[list-item]
    replay = await stale.new_page()
    await replay.goto("/")
    await expect(replay).to_have_url(re.compile(r"/sign-in\?next=/$"))
    for ctx in (context, again.context, stale):
        await ctx.close()


async def test_an_unknown_address_gets_the_same_answer_and_no_mail(
    web: Web, mailbox: Mailbox
) -> None:
    page = await (await web.context()).new_page()
    await page.goto("/sign-in")
    await page.get_by_label("E-mail address").fill("nobody@elsewhere.test")
    await page.get_by_role("button", name="E-mail me a sign-in link").click()
    await expect(page.get_by_role("status")).to_contain_text("a sign-in link is on its way")
    assert not [m for m in mailbox.messages() if m["To"] == "nobody@elsewhere.test"]
    await page.context.close()


async def test_an_expired_link_signs_nobody_in(web: Web) -> None:
    link = await web.link_for("reviewer2")
    async with web.stack.sessions() as session:
        await session.execute(
            update(SignInLink)
            .where(SignInLink.used_at.is_(None), SignInLink.expires_at > utcnow())
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        await session.commit()
    page = await (await web.context()).new_page()
    answer = await page.goto(link)
    assert answer is not None and answer.status == 400
    await expect(page.get_by_role("alert")).to_contain_text("expired")
    await page.context.close()


async def test_a_sign_in_link_only_leads_to_a_page_of_this_site(web: Web) -> None:
    link = await web.link_for("reviewer2")
    page = await (await web.context()).new_page()
    watch_outside_requests(page)
    await page.goto(link + "&next=//evil.test/phish")
    await expect(page).to_have_url(web.url + "/")
    await page.context.close()
