"""What the mailer composes from an outbox row."""

from __future__ import annotations

from services.config import Settings
from services.store import Notification
from services.workers.mail import Mailer


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
