"""Name → implementation registries for the platform's extension points: source kinds, feature
builders, estimators, notification channels and pipeline specs.

Built-ins are found by discovery (every module of the registry's own package is imported, and
modules register with the decorator); third-party packages add entries through Python entry
points (group ``ml_platform.<registry>``, e.g. ``ml_platform.sources``), so a team extends the
platform without editing it. Nothing is imported until a registry is first asked (never at import).
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import threading
from collections.abc import Callable, Iterator
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar

T = TypeVar("T")

ENTRY_POINT_PREFIX = "ml_platform."


class UnknownEntryError(ValueError):
    """A spec names an entry no registry holds; the message lists the known names."""


class Registry(Generic[T]):
    """Entries by name. ``builtin_package``'s modules are imported on first use; then every entry
    point of group ``ml_platform.<group>`` is loaded (its object registered under the entry point's
    name, unless it registered itself on import)."""

    def __init__(self, what: str, group: str, builtin_package: str | None) -> None:
        self.what = what
        self.group = ENTRY_POINT_PREFIX + group
        self.builtin_package = builtin_package
        self._entries: dict[str, T] = {}
        self._origins: dict[str, str] = {}
        self._loaded = False  # every built-in module imported and every plugin loaded
        self._plugins_loaded = False
        self._lock = threading.RLock()

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator: ``@SOURCES.register("landing_dir")`` on a class or function."""

        def _add(obj: T) -> T:
            self.add(name, obj, origin=getattr(obj, "__module__", "?"))
            return obj

        return _add

    def add(self, name: str, obj: T, origin: str = "?") -> None:
        with self._lock:
            known = self._entries.get(name)
            if known is not None and known is not obj:
                raise ValueError(
                    f"{self.what} '{name}' is registered twice: by {self._origins[name]} and by {origin}"
                )
            self._entries[name] = obj
            self._origins[name] = origin

    def _load(self) -> None:
        with self._lock:
            if self._loaded:
                return
            self._loaded = True  # set first: modules imported below may call register()
            if self.builtin_package:
                package = importlib.import_module(self.builtin_package)
                for info in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
                    if not info.name.rsplit(".", 1)[-1].startswith("_"):
                        importlib.import_module(info.name)
            self._load_plugins()

    def _load_for(self, name: str) -> None:
        """What can hold ``name``: the built-in module of that name (a built-in kind lives in a
        module named after it) and every plugin, then the other built-ins only if neither had it.
        A process asking for ``landing_dir`` does not import ``s3`` (and boto3, ~1.3 s); a plugin
        reusing a built-in's name still fails, as the built-in is imported before the plugins."""
        with self._lock:
            if self._loaded:
                return
            if self.builtin_package and name.isidentifier() and not name.startswith("_"):
                module = f"{self.builtin_package}.{name}"
                if importlib.util.find_spec(module) is not None:
                    importlib.import_module(module)
            self._load_plugins()
            if name not in self._entries:
                self._load()

    def _load_plugins(self) -> None:
        with self._lock:
            if self._plugins_loaded:
                return
            self._plugins_loaded = True
            for ep in entry_points(group=self.group):
                obj = ep.load()
                if self._entries.get(ep.name) is not obj:
                    self.add(ep.name, obj, origin=f"entry point {ep.value}")

    def get(self, name: str) -> T:
        self._load_for(name)
        try:
            return self._entries[name]
        except KeyError:
            raise UnknownEntryError(
                f"unknown {self.what} '{name}' (known: {', '.join(self.names()) or 'none'}; "
                f"plugins register under entry point group '{self.group}')"
            ) from None

    def names(self) -> list[str]:
        self._load()
        return sorted(self._entries)

    def items(self) -> Iterator[tuple[str, T]]:
        self._load()
        yield from sorted(self._entries.items())

    def origin(self, name: str) -> str:
        self.get(name)
        return self._origins[name]


SOURCES: Registry[Any] = Registry("source kind", "sources", "ml_platform.sources")
FEATURE_BUILDERS: Registry[Any] = Registry("feature builder", "feature_builders", "ml_platform.features")
ESTIMATORS: Registry[Any] = Registry("estimator", "estimators", "ml_platform.ml.estimators")
CHANNELS: Registry[Any] = Registry("notification channel", "channels", "ml_platform.integrations.channels")
SPECS: Registry[Any] = Registry("spec directory", "specs", None)
