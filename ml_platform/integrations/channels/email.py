"""Plain-text email over SMTP: ``ML_PLATFORM_SMTP_HOST`` (+ ``_PORT``, ``_FROM``, ``_TO``
comma-separated, ``_USER``, ``_PASSWORD``, ``_STARTTLS``); STARTTLS and login when configured."""

from __future__ import annotations

import smtplib
from collections.abc import Mapping
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import field_validator

from ml_platform.integrations.channels import ENV_PREFIX, ChannelSetup, NotificationChannel, register_channel

if TYPE_CHECKING:
    from ml_platform.integrations.notify import Notification


@register_channel
class SmtpEmail(NotificationChannel):
    channel_kind: ClassVar[str] = "email"
    host: str
    port: int = 25
    sender: str = "ml-platform@localhost"
    recipients: list[str]
    username: str | None = None
    password: str | None = None
    starttls: bool = False

    @field_validator("recipients", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        return [r.strip() for r in value.split(",") if r.strip()] if isinstance(value, str) else value

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> ChannelSetup | None:
        def var(name: str) -> str:
            return ENV_PREFIX + name

        if not environ.get(var("SMTP_HOST")):
            return None
        settings = {
            "port": environ.get(var("SMTP_PORT"), "25"),
            "sender": environ.get(var("SMTP_FROM"), "ml-platform@localhost"),
            "recipients": environ.get(var("SMTP_TO"), ""),
            "starttls": str(environ.get(var("SMTP_STARTTLS"), "false").lower() in ("1", "true", "yes")),
        }
        secrets = {"host": var("SMTP_HOST")}
        secrets |= {
            f: var(n)
            for f, n in (("username", "SMTP_USER"), ("password", "SMTP_PASSWORD"))
            if environ.get(var(n))
        }
        return ChannelSetup(kind=cls.channel_kind, settings=settings, secrets=secrets)

    def send(self, note: Notification) -> None:
        message = EmailMessage()
        message["Subject"] = f"[ml_platform] {note.title}"
        message["From"] = self.sender
        message["To"] = ", ".join(self.recipients)
        message.set_content(note.as_text())
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout_seconds) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(message)
