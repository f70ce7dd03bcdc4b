"""An estimator class's keyword parameters read from its source, without importing it.

Validating ``estimator.params`` at spec load used to import the class, and with it scikit-learn
(~1.2 s in every process that loads definitions: each CLI command, the code server, every run
worker, even those that never touch a model). scikit-learn's estimators spell their parameters out
in ``__init__`` (``get_params`` depends on it), so the names can be read from the source file: the
import path is followed through ``from ... import`` re-exports to the ``class`` statement and its
``__init__``. Anything this cannot tell for sure (a class that inherits its ``__init__``, takes
``**kwargs``, is built dynamically or is already imported) answers None and the caller imports.
"""

from __future__ import annotations

import ast
import importlib.machinery
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

_MAX_HOPS = 8  # re-exports followed before giving up


@dataclass(frozen=True)
class SourceSignature:
    """Where the class is defined (``module.Class``, as ``cls.__module__`` names it) and its
    keyword parameters."""

    defined_at: str
    params: frozenset[str]


def source_params(path: str) -> SourceSignature | None:
    """The keyword parameters of the class at import path ``path`` (``package.module.Class``), or
    None when they cannot be read from source with certainty."""
    module, _, name = path.rpartition(".")
    if not module or module in sys.modules:
        return None  # already imported: inspecting the real class costs nothing
    return read_class_params(module, name)


def read_class_params(module: str, name: str, hops: int = 0) -> SourceSignature | None:
    """``source_params`` for ``module``'s ``name``, read from source even if it is imported."""
    if hops > _MAX_HOPS:
        return None
    found = _module_file(module)
    if found is None:
        return None
    file, is_package = found
    tree = _parse(str(file))
    if tree is None:
        return None
    if any(_binds(inner, name) for node in tree.body if _compound(node) for inner in ast.walk(node)):
        return None  # bound under an if / try / with: only an import tells which
    for node in reversed(tree.body):  # the last binding of the name wins
        if isinstance(node, ast.ClassDef) and node.name == name:
            params = _init_params(node)
            return None if params is None else SourceSignature(f"{module}.{name}", params)
        if isinstance(node, ast.ImportFrom):
            if any(alias.name == "*" for alias in node.names):
                return None  # a star import may rebind it
            for alias in node.names:
                if (alias.asname or alias.name) == name:
                    target = _absolute(module, is_package, node)
                    return None if target is None else read_class_params(target, alias.name, hops + 1)
        if _binds(node, name):
            return None  # bound some other way: only an import tells
    return None


def _compound(node: ast.stmt) -> bool:
    return isinstance(node, ast.If | ast.Try | ast.With | ast.For | ast.While | ast.Match)


def _binds(node: ast.AST, name: str) -> bool:
    if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
        return node.name == name
    if isinstance(node, ast.Import | ast.ImportFrom):
        return any((a.asname or a.name).partition(".")[0] == name for a in node.names)
    if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return any(isinstance(t, ast.Name) and t.id == name for t in targets)
    return False


def _init_params(cls: ast.ClassDef) -> frozenset[str] | None:
    if cls.decorator_list or cls.keywords:
        return None  # decorated, or a metaclass: the signature may not be __init__'s
    if any(_binds(n, "__signature__") or _binds(n, "__new__") for n in cls.body):
        return None
    inits = [n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name == "__init__"]
    if len(inits) != 1 or inits[0].decorator_list:
        return None  # inherited, or redefined conditionally
    args = inits[0].args
    if args.vararg is not None or args.kwarg is not None:
        return None
    named = [a.arg for a in args.args[1:]] + [a.arg for a in args.kwonlyargs]
    return frozenset(named)


def _absolute(module: str, is_package: bool, node: ast.ImportFrom) -> str | None:
    if node.level == 0:
        return node.module
    package = module if is_package else module.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    if not package:
        return None
    return f"{package}.{node.module}" if node.module else package


def _module_file(module: str) -> tuple[Path, bool] | None:
    """The source file of ``module`` found on ``sys.path`` without importing its packages."""
    search: list[str] | None = None
    spec = None
    for part in module.split("."):
        spec = importlib.machinery.PathFinder.find_spec(part, search)
        if spec is None:
            return None
        search = list(spec.submodule_search_locations or [])
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return None
    return Path(spec.origin), spec.submodule_search_locations is not None


@lru_cache(maxsize=64)
def _parse(file: str) -> ast.Module | None:
    try:
        return ast.parse(Path(file).read_bytes(), filename=file)
    except (OSError, SyntaxError, ValueError):
        return None
