"""The weekly portfolio report: a Temporal Schedule starts it and officers get it by mail."""

from __future__ import annotations

import uuid

from temporalio.client import Client

from services.demo import DEMO_USERS
from services.store import Role
from services.temporal import ensure_portfolio_schedule
from tests.stack import Mailbox, Stack


async def test_the_schedule_mails_the_portfolio_to_program_officers(
    stack: Stack, temporal_client: Client, mailbox: Mailbox
) -> None:
    schedule_id = f"portfolio-test-{uuid.uuid4()}"
    await ensure_portfolio_schedule(temporal_client, stack.settings, schedule_id)
    # A second start of the worker finds the schedule and brings it up to date.
    await ensure_portfolio_schedule(temporal_client, stack.settings, schedule_id)
    handle = temporal_client.get_schedule_handle(schedule_id)
    try:
        described = await handle.describe()
        upcoming = described.info.next_action_times[0]
        assert (upcoming.weekday(), upcoming.hour, upcoming.minute) == (0, 7, 0)  # Monday 07:00
        await handle.trigger()
        mails = await mailbox.wait_for(
            lambda m: (
                str(m["Subject"]).startswith("Accord portfolio report")
                and m["To"] == "olivia.officer@accord.test"
            )
        )
        text = mails[-1].get_body(("plain",)).get_content()
        assert "Agreements by status" in text
        html = mails[-1].get_body(("html",)).get_content()
        assert "<svg" in html
        # Program officers only (other tests add officers of their own).
        reports = [m for m in mailbox.messages() if "portfolio report" in str(m["Subject"])]
        others = {u.email for u in DEMO_USERS if u.role != Role.PROGRAM_OFFICER}
        assert reports and not {m["To"] for m in reports} & others
    finally:
        await handle.delete()
