"""Notification channels, one module per kind (``slack``, ``webhook``, ``email``), registered by name;
plugins add kinds through the entry point group ``ml_platform.channels``.

A channel is configured by a :class:`ChannelSetup`: plain settings plus the *names* of environment
variables that hold its secrets, resolved through ``dg.EnvVar`` only when a message is sent."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import dagster as dg
from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from ml_platform.integrations.notify import Notification

ENV_PREFIX = "ML_PLATFORM_"


class ChannelSetup(dg.Config):
    """A configured channel: its registered ``kind``, settings, and secret fields → env var names."""

    kind: str
    settings: dict[str, str] = {}
    secrets: dict[str, str] = {}

    def build(self) -> NotificationChannel:
        from ml_platform.registry import CHANNELS

        values: dict[str, Any] = dict(self.settings)
        for field, var in self.secrets.items():
            value = dg.EnvVar(var).get_value()
            if value is None:
                raise ValueError(f"channel '{self.kind}': {field} comes from {var}, which is not set")
            values[field] = value
        channel: NotificationChannel = CHANNELS.get(self.kind).model_validate(values)
        return channel


class NotificationChannel(BaseModel, ABC):
    """One way to deliver a :class:`Notification`. Subclasses set ``channel_kind``, implement
    :meth:`send` and :meth:`from_env` (which variables configure it), and register."""

    model_config = ConfigDict(extra="forbid")
    channel_kind: ClassVar[str] = ""
    timeout_seconds: float = 10.0

    @abstractmethod
    def send(self, note: Notification) -> None: ...

    @classmethod
    @abstractmethod
    def from_env(cls, environ: Mapping[str, str]) -> ChannelSetup | None:
        """The setup if this channel's variables are set in ``environ`` (values of secrets unread)."""

    def _post(self, url: str, body: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> None:
        import requests

        response = requests.post(url, json=body, headers=dict(headers or {}), timeout=self.timeout_seconds)
        response.raise_for_status()


def register_channel(cls: type[NotificationChannel]) -> type[NotificationChannel]:
    from ml_platform.registry import CHANNELS

    CHANNELS.add(cls.channel_kind, cls, origin=cls.__module__)
    return cls
