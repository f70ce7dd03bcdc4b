"""Fixtures shared by all layers: a temporary local environment (SQLite MLflow, Parquet under
tmp_path) and a Dagster test instance."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

from ml_platform.definitions import build_definitions
from ml_platform.environments import Environment, local_environment
from ml_platform.ops.lifecycle import Lifecycle
from ml_platform.pipeline.names import PipelineNames
from ml_platform.specs.models import PipelineSpec
from ml_platform_tests.instances import local_instance

os.environ.setdefault("MLFLOW_ENABLE_TELEMETRY", "false")
os.environ.setdefault("DO_NOT_TRACK", "true")


@dataclass
class World:
    """One pipeline wired to real local parts in a temp directory."""

    spec: PipelineSpec
    env: Environment
    instance: dg.DagsterInstance
    defs: dg.Definitions
    life: Lifecycle

    @property
    def pipeline(self) -> PipelineNames:
        return self.life.pipeline

    @property
    def registry(self):  # type: ignore[no-untyped-def]
        return self.env.mlflow()


@pytest.fixture(scope="module")
def make_world(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """Factory: ``make_world(spec)`` → a World with its own instance, MLflow DB and storage."""
    stack: list = []

    def _make(spec: PipelineSpec, name: str = "world") -> World:
        home: Path = tmp_path_factory.mktemp(name)
        env = local_environment(home)
        (home / "dagster").mkdir()
        ctx = local_instance(str(home / "dagster"))
        instance = ctx.__enter__()
        stack.append(ctx)
        defs = build_definitions([spec], env)
        return World(
            spec, env, instance, defs, Lifecycle(defs, instance, PipelineNames(spec), log_level="WARNING")
        )

    yield _make
    for ctx in reversed(stack):
        ctx.__exit__(None, None, None)
