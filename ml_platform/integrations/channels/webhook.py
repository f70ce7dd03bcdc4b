"""Generic JSON webhook: ``ML_PLATFORM_WEBHOOK_URL`` (+ bearer token ``ML_PLATFORM_WEBHOOK_TOKEN``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import TYPE_CHECKING, ClassVar

from ml_platform.integrations.channels import ENV_PREFIX, ChannelSetup, NotificationChannel, register_channel

if TYPE_CHECKING:
    from ml_platform.integrations.notify import Notification


@register_channel
class JsonWebhook(NotificationChannel):
    """POSTs the notification as JSON; optional bearer token."""

    channel_kind: ClassVar[str] = "webhook"
    url: str
    token: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> ChannelSetup | None:
        url, token = ENV_PREFIX + "WEBHOOK_URL", ENV_PREFIX + "WEBHOOK_TOKEN"
        if not environ.get(url):
            return None
        secrets = {"url": url} | ({"token": token} if environ.get(token) else {})
        return ChannelSetup(kind=cls.channel_kind, secrets=secrets)

    def send(self, note: Notification) -> None:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        self._post(self.url, asdict(note), headers)
