"""Environments: local (embedded, the default) or production, chosen once, as data, from
``ML_PLATFORM_ENV`` when definitions load (never at import)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from ml_platform.environments.base import Environment
from ml_platform.environments.local import local_environment, with_ui_urls

ENV_VAR = "ML_PLATFORM_ENV"
HOME_VAR = "ML_PLATFORM_HOME"


def current_environment(environ: Mapping[str, str] | None = None) -> Environment:
    """The environment named by ``ML_PLATFORM_ENV`` (default ``local``)."""
    environ = os.environ if environ is None else environ
    name = environ.get(ENV_VAR, "local")
    home = Path(environ.get(HOME_VAR, ".ml_platform"))
    if name == "local":
        return with_ui_urls(local_environment(home), environ)
    if name == "production":
        from ml_platform.environments.production import production_environment

        return production_environment(home, environ)
    raise ValueError(f"{ENV_VAR}={name!r}: unknown environment (known: local, production)")


__all__ = ["ENV_VAR", "HOME_VAR", "Environment", "current_environment", "local_environment"]
