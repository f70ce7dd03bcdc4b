"""``skops.io``, imported without its quadratic module search.

Importing ``skops.io`` (which MLflow does to log or load a model in the skops format) builds its
list of trusted types by asking, for each of the 320 numpy and scipy ufuncs, which loaded module
holds it: ``skops.io._utils.whichmodule`` tries ``getattr(module, name, None)`` on every module in
``sys.modules`` until one returns the object. In a process that holds Dagster, MLflow, pandas and
scikit-learn (~3,600 modules) that is ~600,000 failed attribute lookups, each raising and clearing
an ``AttributeError`` inside ``getattr``: the import takes 2.5–3.0 s in every process that logs or
loads a model (a training run, a scoring run, the model server); 1.2–1.3 s this way.

:func:`import_skops_io` imports it with the same search done by dictionary lookups: a plain module
without a module-level ``__getattr__`` has an attribute exactly when its ``__dict__`` has it, so
only other modules (lazy ones, module subclasses, non-modules in ``sys.modules``) still get
``getattr``. Same modules, same order, same first match, so the same trusted types (tested).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import threading
import warnings
from collections.abc import Callable
from types import ModuleType
from typing import Any

_UTILS = "skops.io._utils"
_lock = threading.Lock()


def fast_whichmodule(original: Callable[[Any, str], str]) -> Callable[[Any, str], str]:
    """``original`` (skops' ``whichmodule``) answered by dictionary lookups where that is exact."""

    def whichmodule(obj: Any, name: str) -> str:
        if getattr(obj, "__module__", None) is not None or "." in name or name.startswith("__"):
            return original(obj, name)  # no search, dotted names, dunders (type attributes): as is
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # numpy.core's shims, as skops does
            for module_name, module in sys.modules.copy().items():
                if module_name in ("__main__", "__mp_main__") or module is None:
                    continue
                if type(module) is ModuleType:  # a plain module: getattr finds what its dict holds
                    namespace = module.__dict__
                    if name in namespace:
                        found = namespace[name]
                    elif "__getattr__" in namespace:
                        found = _lookup(module, name)
                    else:
                        continue  # getattr would raise AttributeError: skops skips the module
                else:
                    found = _lookup(module, name)
                if found is obj:
                    return module_name
        return "__main__"

    whichmodule.__wrapped__ = original  # type: ignore[attr-defined]
    return whichmodule


def _lookup(module: Any, name: str) -> Any:
    try:
        return getattr(module, name, None)
    except (AttributeError, ImportError):
        return None


class _PatchUtils(importlib.abc.MetaPathFinder):
    """Finds ``skops.io._utils`` as usual and swaps in :func:`fast_whichmodule` right after it runs,
    before ``skops.io._trusted_types`` (imported later by the package) uses it."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname != _UTILS:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return spec
        loader = spec.loader
        run = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            run(module)
            original = getattr(module, "whichmodule", None)
            if callable(original):  # another skops layout: imported as it is
                module.whichmodule = fast_whichmodule(original)  # type: ignore[attr-defined]

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def import_skops_io() -> ModuleType:
    """``skops.io``, imported with the fast search if this process has not imported it yet."""
    if "skops.io" in sys.modules:
        return sys.modules["skops.io"]
    with _lock:
        if "skops.io" not in sys.modules:
            finder = _PatchUtils()
            sys.meta_path.insert(0, finder)
            try:
                importlib.import_module("skops.io")
            finally:
                sys.meta_path.remove(finder)
    return sys.modules["skops.io"]
