"""Dagster entry point: every bundled pipeline spec, with the chosen environment's resources."""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg

from ml_platform.environments import Environment, current_environment
from ml_platform.pipeline.build import pipeline_definitions
from ml_platform.specs import configured_specs
from ml_platform.specs.models import PipelineSpec


def build_definitions(specs: Sequence[PipelineSpec], env: Environment) -> dg.Definitions:
    merged = dg.Definitions.merge(
        *(
            pipeline_definitions(
                s, schedules_running=env.schedules_running, train_executor=env.train_executor()
            )
            for s in specs
        )
    )
    return dg.Definitions.merge(
        merged, dg.Definitions(resources=dict(env.resources(specs)), executor=env.run_executor())
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions(configured_specs(), current_environment())
