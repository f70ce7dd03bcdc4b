"""A small, safe arithmetic language for ``expression`` transforms: parsed with ``ast`` into a tree
of a few node kinds (nothing is ever ``eval``-ed), then evaluated by an engine (pandas here; Spark
in ``features/transforms_spark.py``). Semantics shared by both engines: numbers are float64, a
missing operand gives a missing result, ``x / 0`` is missing, comparisons give 1.0/0.0."""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
COMPARE = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!="}
FUNCTIONS = ("abs", "log", "sqrt")


@dataclass(frozen=True)
class Node:
    """``op`` is 'col' (``value`` = name), 'num' (``value`` = float), a binary/compare operator,
    'neg', or a function name; ``args`` are child nodes."""

    op: str
    args: tuple[Node, ...] = ()
    value: Any = None

    def columns(self) -> list[str]:
        found = [self.value] if self.op == "col" else []
        for arg in self.args:
            found += [c for c in arg.columns() if c not in found]
        return found


class ExpressionError(ValueError):
    pass


def parse(expr: str) -> Node:
    """The tree of ``expr``; an ``ExpressionError`` names what is not allowed."""
    try:
        tree = ast.parse(expr, mode="eval").body
    except SyntaxError as exc:
        raise ExpressionError(f"expression {expr!r} does not parse: {exc.msg}") from None
    return _node(tree, expr)


def _node(n: ast.AST, expr: str) -> Node:
    if isinstance(n, ast.Name):
        return Node("col", value=n.id)
    if isinstance(n, ast.Constant) and isinstance(n.value, int | float) and not isinstance(n.value, bool):
        return Node("num", value=float(n.value))
    if isinstance(n, ast.BinOp) and type(n.op) in BINARY:
        return Node(BINARY[type(n.op)], (_node(n.left, expr), _node(n.right, expr)))
    if isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.USub | ast.UAdd):
        inner = _node(n.operand, expr)
        return Node("neg", (inner,)) if isinstance(n.op, ast.USub) else inner
    if isinstance(n, ast.Compare) and len(n.ops) == 1 and type(n.ops[0]) in COMPARE:
        return Node(COMPARE[type(n.ops[0])], (_node(n.left, expr), _node(n.comparators[0], expr)))
    if (
        isinstance(n, ast.Call)
        and isinstance(n.func, ast.Name)
        and n.func.id in FUNCTIONS
        and len(n.args) == 1
        and not n.keywords
    ):
        return Node(n.func.id, (_node(n.args[0], expr),))
    raise ExpressionError(
        f"expression {expr!r}: '{ast.unparse(n)}' is not allowed (columns, numbers, + - * / **, "
        f"one comparison, {', '.join(FUNCTIONS)})"
    )


def _div(a: pd.Series, b: pd.Series) -> pd.Series:
    return (a / b.where(b != 0)).astype(float)


def _pow(a: pd.Series, b: pd.Series) -> pd.Series:
    with np.errstate(all="ignore"):
        out = np.power(a, b)
    return out.where(np.isfinite(out))


def _log(a: pd.Series) -> pd.Series:
    return np.log(a.where(a > 0))


_PANDAS: dict[str, Callable[..., pd.Series]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": _div,
    "**": _pow,
    "neg": lambda a: -a,
    "abs": lambda a: a.abs(),
    "log": _log,
    "sqrt": lambda a: np.sqrt(a.where(a >= 0)),
}


def evaluate_pandas(node: Node, frame: pd.DataFrame) -> pd.Series:
    """Evaluate on a pandas frame; float64, index of ``frame``."""
    if node.op == "col":
        return pd.to_numeric(frame[node.value], errors="coerce").astype(float)
    if node.op == "num":
        return pd.Series(node.value, index=frame.index, dtype=float)
    args = [evaluate_pandas(a, frame) for a in node.args]
    if node.op in _PANDAS:
        return _PANDAS[node.op](*args).astype(float)
    a, b = args
    result = {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "==": a == b, "!=": a != b}[node.op]
    return result.astype(float).where(a.notna() & b.notna())
