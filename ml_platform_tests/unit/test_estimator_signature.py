"""Estimator parameters read from source: the same names as the imported class for every built-in
kind, no scikit-learn import when a spec loads, the same located error for a typo, and an import
whenever the source cannot tell for sure."""

from __future__ import annotations

import inspect
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ml_platform.ml.estimators import estimator_kind
from ml_platform.ml.estimators.signature import read_class_params, source_params
from ml_platform.registry import ESTIMATORS

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("task", ["classification", "regression"])
@pytest.mark.parametrize("name", ["hist_gradient_boosting", "random_forest", "linear"])
def test_every_builtin_kind_reads_as_its_imported_signature(name: str, task: str) -> None:
    assert name in ESTIMATORS.names()
    kind = estimator_kind(name)
    cls = kind.estimator_class(task)
    module, _, attr = kind.class_path(task).rpartition(".")
    read = read_class_params(module, attr)  # from source although the test process imported it
    assert read is not None
    assert read.params == frozenset(inspect.signature(cls).parameters)
    assert read.defined_at == f"{cls.__module__}.{cls.__qualname__}"


def test_a_spec_loads_without_scikit_learn_and_a_typo_names_the_class() -> None:
    code = textwrap.dedent(
        """
        import sys
        from flights_delay import SPEC_DIR
        from ml_platform.specs import load_spec
        from ml_platform.specs import SpecError
        spec = load_spec(SPEC_DIR / "flights_delay.yaml")
        print("sklearn" in sys.modules, spec.estimator.kind)
        try:
            load_spec(SPEC_DIR / "flights_delay.yaml", {"estimator": {"params": {"max_iters": 5}}})
        except SpecError as exc:
            print(str(exc).replace("\\n", " "))
        print("sklearn" in sys.modules)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300, check=True
    ).stdout.splitlines()
    assert out[0] == "False hist_gradient_boosting", out
    assert (
        "estimator.params.max_iters: not a parameter of "
        "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier "
        "(did you mean 'max_iter'?)"
    ) in out[1]
    assert out[2] == "False"


def _package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    monkeypatch.syspath_prepend(str(tmp_path))


def test_re_exports_are_followed_and_doubtful_classes_answer_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _package(
        tmp_path,
        monkeypatch,
        {
            "estpkg/__init__.py": """
                from estpkg._impl import Plain as Exported, Inherits, Kwargs
                from . import _impl
                Alias = _impl.Plain
                try:
                    from estpkg._impl import Maybe
                except ImportError:
                    Maybe = None
            """,
            "estpkg/starred.py": """
                class Plain:
                    def __init__(self, depth=3):
                        pass

                from estpkg._impl import *
            """,
            "estpkg/_impl.py": """
                class Base:
                    def __init__(self, a=1):
                        self.a = a

                class Plain(Base):
                    def __init__(self, depth=3, *, rate=0.1):
                        super().__init__()

                class Inherits(Plain):
                    pass

                class Kwargs:
                    def __init__(self, **kwargs):
                        pass

                class Maybe:
                    def __init__(self, b=2):
                        pass
            """,
        },
    )
    read = source_params("estpkg.Exported")
    assert read is not None and read.params == {"depth", "rate"} and read.defined_at == "estpkg._impl.Plain"
    assert source_params("estpkg.Inherits") is None  # __init__ inherited
    assert source_params("estpkg.Kwargs") is None  # takes anything
    assert source_params("estpkg.Alias") is None  # an assignment, not a class statement
    assert source_params("estpkg.Maybe") is None  # bound under try: only an import tells
    assert source_params("estpkg.Missing") is None
    assert source_params("estpkg.starred.Plain") is None  # a later star import may rebind it
    assert "estpkg" not in sys.modules  # nothing imported on the way
