"""What the mailer composes from an outbox row."""

from __future__ import annotations

from services.config import Settings
from services.mail import Mailer
from services.store import Notification


def test_a_line_break_in_a_title_does_not_stop_the_mail() -> None:
    """A title or name with CR/LF reaches the subject; the header stays on one line
    instead of making the message refuse it (and every mail in the batch go unsent)."""
    notification = Notification(
        id="n-1",
        recipient_email="rita.reviewer@accord.test",
        subject="Review: Solar\r\nBcc: someone@example.test license",
        body="A task waits for you.",
        task_id=None,
    )
    message = Mailer(Settings(smtp_host="127.0.0.1")).compose(notification)
    assert message["Subject"] == "Review: Solar Bcc: someone@example.test license"
    assert message["Bcc"] is None
    assert "\r\nBcc" not in message.as_string()


def test_a_notice_for_a_task_links_to_its_page_in_the_web_app() -> None:
    """The link opens the task in the browser, not the JSON API (which needs a token)."""
    notification = Notification(
        id="n-2",
        recipient_email="rita.reviewer@accord.test",
        subject="Review: Solar license",
        body="A task waits for you.",
        task_id="t-1",
    )
    settings = Settings(smtp_host="127.0.0.1", public_url="https://accord.example.org")
    body = Mailer(settings).compose(notification).get_content()
    assert "Open the task: https://accord.example.org/tasks/t-1" in body
    assert "/v1/" not in body
