"""Notifications: what happened (:class:`Notification`) and the :class:`Notifier` resource that
sends it on every configured channel (channel kinds are registered; see ``channels/``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import dagster as dg
from pydantic import Field

from ml_platform.integrations.channels import ChannelSetup


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


class Notifier(dg.ConfigurableResource):
    """Sends to every configured channel; one failing channel does not silence the others."""

    setups: list[ChannelSetup] = Field(default_factory=list)
    dagster_ui_url: str | None = Field(default=None, description="for links to runs")

    def channels(self) -> dict[str, ChannelSetup]:
        return {setup.kind: setup for setup in self.setups}

    def run_url(self, run_id: str) -> str | None:
        return f"{self.dagster_ui_url.rstrip('/')}/runs/{run_id}" if self.dagster_ui_url else None

    def send(self, note: Notification) -> list[str]:
        sent, errors = [], []
        for name, channel in self.channels().items():
            try:
                channel.build().send(note)
                sent.append(name)
            except Exception as exc:  # noqa: BLE001 - reported below, after trying every channel
                errors.append(f"{name}: {type(exc).__name__}: {exc}")
        if errors:
            raise RuntimeError(f"notification '{note.title}' failed on {errors} (sent on {sent})")
        return sent


def notifier_from_env(environ: Mapping[str, str], dagster_ui_url: str | None = None) -> Notifier:
    """Every registered channel whose variables are set (see each channel's module); secrets stay
    names of environment variables, resolved through ``dg.EnvVar`` when a message is sent."""
    from ml_platform.registry import CHANNELS

    setups = [setup for _, cls in CHANNELS.items() if (setup := cls.from_env(environ)) is not None]
    return Notifier(setups=setups, dagster_ui_url=dagster_ui_url)
