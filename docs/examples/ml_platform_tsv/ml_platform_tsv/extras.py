"""Estimator kind ``tree`` and notification channel ``logfile`` (writes each notification as a line)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict
from typing import TYPE_CHECKING, ClassVar

from ml_platform.integrations.channels import ChannelSetup, NotificationChannel
from ml_platform.ml.estimators import EstimatorKind

if TYPE_CHECKING:
    from ml_platform.integrations.notify import Notification

TREE = EstimatorKind(
    name="tree",
    classification="sklearn.tree.DecisionTreeClassifier",
    regression="sklearn.tree.DecisionTreeRegressor",
)


class LogFileChannel(NotificationChannel):
    channel_kind: ClassVar[str] = "logfile"
    path: str

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> ChannelSetup | None:
        path = environ.get("ML_PLATFORM_LOGFILE")
        return ChannelSetup(kind=cls.channel_kind, settings={"path": path}) if path else None

    def send(self, note: Notification) -> None:
        with open(self.path, "a", encoding="utf-8") as out:
            out.write(json.dumps(asdict(note)) + "\n")
