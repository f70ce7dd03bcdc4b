"""Notifications: a Slack-compatible webhook, a generic JSON webhook and SMTP email, one resource
class each, bundled by :class:`Notifier`. Configured from environment variables (``dg.EnvVar``)."""

from __future__ import annotations

import smtplib
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from email.message import EmailMessage
from typing import Any

import dagster as dg
from pydantic import Field

ENV_PREFIX = "ML_PLATFORM_"


@dataclass(frozen=True)
class Notification:
    """What happened (``kind``: run_failure | gate_rejected | champion_deployed), with links."""

    kind: str
    pipeline: str
    title: str
    text: str
    fields: dict[str, str] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)

    def as_text(self) -> str:
        lines = [self.title, "", self.text, ""]
        lines += [f"{k}: {v}" for k, v in self.fields.items()]
        lines += [f"{k}: {v}" for k, v in self.links.items()]
        return "\n".join(lines).strip() + "\n"


def _secret(value: Any) -> Any:
    return value.get_value() if isinstance(value, dg.EnvVar) else value


class NotificationChannel(dg.ConfigurableResource, ABC):
    timeout_seconds: float = 10.0

    @abstractmethod
    def send(self, note: Notification) -> None: ...

    def _post(self, url: str, body: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> None:
        import requests

        response = requests.post(url, json=body, headers=dict(headers or {}), timeout=self.timeout_seconds)
        response.raise_for_status()


class SlackWebhook(NotificationChannel):
    """Slack incoming webhook (or anything speaking its ``{"text", "blocks"}`` payload)."""

    url: str

    def send(self, note: Notification) -> None:
        links = " | ".join(f"<{url}|{name}>" for name, url in note.links.items())
        fields = "\n".join(f"*{k}*: {v}" for k, v in note.fields.items())
        blocks: list[dict[str, Any]] = [
            {"type": "header", "text": {"type": "plain_text", "text": note.title[:150]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": f"{note.text}\n{fields}".strip()[:3000]}},
        ]
        if links:
            blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": links}]})
        self._post(_secret(self.url), {"text": f"{note.title}: {note.text}"[:3000], "blocks": blocks})


class JsonWebhook(NotificationChannel):
    """POSTs the notification as JSON; optional bearer token."""

    url: str
    token: str | None = None

    def send(self, note: Notification) -> None:
        token = _secret(self.token)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._post(_secret(self.url), asdict(note), headers)


class SmtpEmail(NotificationChannel):
    """Plain-text email over SMTP (STARTTLS and login when configured)."""

    host: str
    port: int = 25
    sender: str
    recipients: list[str]
    username: str | None = None
    password: str | None = None
    starttls: bool = False

    def send(self, note: Notification) -> None:
        message = EmailMessage()
        message["Subject"] = f"[ml_platform] {note.title}"
        message["From"] = self.sender
        message["To"] = ", ".join(self.recipients)
        message.set_content(note.as_text())
        with smtplib.SMTP(_secret(self.host), self.port, timeout=self.timeout_seconds) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(_secret(self.username), _secret(self.password) or "")
            smtp.send_message(message)


class Notifier(dg.ConfigurableResource):
    """Sends to every configured channel; one failing channel does not silence the others."""

    slack: SlackWebhook | None = None
    webhook: JsonWebhook | None = None
    email: SmtpEmail | None = None
    dagster_ui_url: str | None = Field(default=None, description="for links to runs")

    def channels(self) -> dict[str, NotificationChannel]:
        pairs = {"slack": self.slack, "webhook": self.webhook, "email": self.email}
        return {name: channel for name, channel in pairs.items() if channel is not None}

    def run_url(self, run_id: str) -> str | None:
        return f"{self.dagster_ui_url.rstrip('/')}/runs/{run_id}" if self.dagster_ui_url else None

    def send(self, note: Notification) -> list[str]:
        sent, errors = [], []
        for name, channel in self.channels().items():
            try:
                channel.send(note)
                sent.append(name)
            except Exception as exc:  # noqa: BLE001 - reported below, after trying every channel
                errors.append(f"{name}: {type(exc).__name__}: {exc}")
        if errors:
            raise RuntimeError(f"notification '{note.title}' failed on {errors} (sent on {sent})")
        return sent


def notifier_from_env(environ: Mapping[str, str], dagster_ui_url: str | None = None) -> Notifier:
    """Channels whose variables are set: ``ML_PLATFORM_SLACK_WEBHOOK_URL``; ``ML_PLATFORM_WEBHOOK_URL``
    (+ ``ML_PLATFORM_WEBHOOK_TOKEN``); ``ML_PLATFORM_SMTP_HOST`` (+ ``_PORT``, ``_FROM``, ``_TO``
    comma-separated, ``_USER``, ``_PASSWORD``, ``_STARTTLS``). Secrets stay ``dg.EnvVar``s."""

    def has(name: str) -> bool:
        return bool(environ.get(ENV_PREFIX + name))

    def var(name: str) -> dg.EnvVar:
        return dg.EnvVar(ENV_PREFIX + name)

    slack = SlackWebhook(url=var("SLACK_WEBHOOK_URL")) if has("SLACK_WEBHOOK_URL") else None
    webhook = (
        JsonWebhook(url=var("WEBHOOK_URL"), token=var("WEBHOOK_TOKEN") if has("WEBHOOK_TOKEN") else None)
        if has("WEBHOOK_URL")
        else None
    )
    email = None
    if has("SMTP_HOST"):
        email = SmtpEmail(
            host=var("SMTP_HOST"),
            port=int(environ.get(ENV_PREFIX + "SMTP_PORT", "25")),
            sender=environ.get(ENV_PREFIX + "SMTP_FROM", "ml-platform@localhost"),
            recipients=[r.strip() for r in environ.get(ENV_PREFIX + "SMTP_TO", "").split(",") if r.strip()],
            username=var("SMTP_USER") if has("SMTP_USER") else None,
            password=var("SMTP_PASSWORD") if has("SMTP_PASSWORD") else None,
            starttls=environ.get(ENV_PREFIX + "SMTP_STARTTLS", "false").lower() in ("1", "true", "yes"),
        )
    return Notifier(slack=slack, webhook=webhook, email=email, dagster_ui_url=dagster_ui_url)
