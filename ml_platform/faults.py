"""Test-only fault injection: ``fault_point(name)`` does nothing unless ``ML_PLATFORM_FAULT`` names
the point. Read at call time, never at import, so production code pays one dict lookup.

``ML_PLATFORM_FAULT=deploy:after_export`` kills the process there (``os._exit(137)``, as a
``kill -9`` would: no ``finally``, no cleanup). ``ML_PLATFORM_FAULT=deploy:after_export@pause=/p``
instead creates ``/p.reached`` and waits (up to 60 s) until the test removes it (e.g. to lock the
MLflow database mid-deploy)."""

from __future__ import annotations

import os
import time
from pathlib import Path

FAULT_VAR = "ML_PLATFORM_FAULT"
KILLED_EXIT_CODE = 137


def fault_point(name: str) -> None:
    """Die (or pause) here if the test asked for it; otherwise return at once."""
    wanted = os.environ.get(FAULT_VAR)
    if not wanted:
        return
    point, _, action = wanted.partition("@")
    if point != name:
        return
    if action.startswith("pause="):
        marker = Path(action.removeprefix("pause=") + ".reached")
        marker.write_text(str(os.getpid()))
        deadline = time.monotonic() + 60
        while marker.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        return
    os._exit(KILLED_EXIT_CODE)
