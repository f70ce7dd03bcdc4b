"""Shared parts of the spec models: strict pydantic bases, the name pattern, option checks."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

_NAME = r"^[a-z][a-z0-9_]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_options(model: type[BaseModel], options: dict[str, Any], where: str) -> None:
    """Validate a kind's options with its own model; the error names each bad field."""
    try:
        model.model_validate(options)
    except ValidationError as exc:
        problems = "; ".join(
            f"{where}.{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" if err["loc"] else err["msg"]
            for err in exc.errors()
        )
        raise ValueError(problems) from None
