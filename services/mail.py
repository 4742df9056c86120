"""Mail over SMTP: outbox notifications and reports (the worker), sign-in links (the web app)."""

from __future__ import annotations

import asyncio
import smtplib
from email.message import EmailMessage
from email.policy import SMTP

from services.config import Settings
from services.store import Notification


def one_line(header: str) -> str:
    """A header value on one line: a title or name with a line break in it would make the
    message refuse the header, and the mail never go out."""
    return " ".join(header.split())


class Mailer:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings

    @property
    def configured(self) -> bool:
        return bool(self._settings.smtp_host)

    def compose(self, notification: Notification) -> EmailMessage:
        # Fold only past RFC 5322's 998 characters: folding at 78 broke subjects that
        # start with a long word sequence into a leading blank some clients show.
        message = EmailMessage(policy=SMTP.clone(max_line_length=998))
        message["From"] = self._settings.smtp_sender
        message["To"] = notification.recipient_email
        message["Subject"] = one_line(notification.subject)
        message["Message-ID"] = f"<{notification.id}@accord>"
        body = notification.body
        if notification.task_id:
            body += f"\n\nOpen the task: {self._settings.public_url}/tasks/{notification.task_id}"
        message.set_content(body)
        return message

    def compose_report(
        self, recipient: str, subject: str, text: str, html: str | None = None
    ) -> EmailMessage:
        """A report mail: plain text, with an HTML alternative when given."""
        message = EmailMessage(policy=SMTP.clone(max_line_length=998))
        message["From"] = self._settings.smtp_sender
        message["To"] = recipient
        message["Subject"] = one_line(subject)
        message.set_content(text)
        if html is not None:
            message.add_alternative(html, subtype="html")
        return message

    async def send(self, message: EmailMessage) -> None:
        await asyncio.to_thread(self._send_blocking, message)

    def _send_blocking(self, message: EmailMessage) -> None:
        settings = self._settings
        assert settings.smtp_host is not None
        with smtplib.SMTP(
            settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_seconds
        ) as smtp:
            smtp.send_message(message)
