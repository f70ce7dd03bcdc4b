"""Slack incoming webhook (or anything speaking its ``{"text", "blocks"}`` payload):
``ML_PLATFORM_SLACK_WEBHOOK_URL``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from ml_platform.integrations.channels import ENV_PREFIX, ChannelSetup, NotificationChannel, register_channel

if TYPE_CHECKING:
    from ml_platform.integrations.notify import Notification


@register_channel
class SlackWebhook(NotificationChannel):
    channel_kind: ClassVar[str] = "slack"
    url: str

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> ChannelSetup | None:
        var = ENV_PREFIX + "SLACK_WEBHOOK_URL"
        return ChannelSetup(kind=cls.channel_kind, secrets={"url": var}) if environ.get(var) else None

    def send(self, note: Notification) -> None:
        links = " | ".join(f"<{url}|{name}>" for name, url in note.links.items())
        fields = "\n".join(f"*{k}*: {v}" for k, v in note.fields.items())
        blocks: list[dict[str, Any]] = [
            {"type": "header", "text": {"type": "plain_text", "text": note.title[:150]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": f"{note.text}\n{fields}".strip()[:3000]}},
        ]
        if links:
            blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": links}]})
        self._post(self.url, {"text": f"{note.title}: {note.text}"[:3000], "blocks": blocks})
