"""``import_skops_io``: skops' trusted types found by dictionary lookups give what skops' own search
gives, for every ufunc and for the modules that need ``getattr`` (lazy ones, non-modules)."""

import subprocess
import sys
import types

import numpy as np
import pytest
import scipy.special
from skops.io import _utils

from ml_platform.integrations.skops_import import fast_whichmodule

ORIGINAL = getattr(_utils.whichmodule, "__wrapped__", _utils.whichmodule)
FAST = fast_whichmodule(ORIGINAL)


def _ufuncs() -> list[object]:
    found = []
    for module in (np, scipy.special):
        for name in dir(module):
            obj = getattr(module, name)
            if isinstance(obj, np.ufunc):
                found.append(obj)
    return found


def test_every_ufunc_is_placed_in_the_module_skops_finds() -> None:
    ufuncs = _ufuncs()
    assert len(ufuncs) > 250
    fast = [FAST(u, u.__name__) for u in ufuncs]
    assert fast == [ORIGINAL(u, u.__name__) for u in ufuncs]
    assert "__main__" not in fast  # every one is found somewhere


@pytest.fixture
def planted(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Three entries of sys.modules that hold an object only through ``getattr``."""
    target = np.frompyfunc(lambda x: x, 1, 1)  # a ufunc with no __module__, in no module yet
    name = target.__name__

    lazy = types.ModuleType("mlp_lazy")
    lazy.__getattr__ = lambda attr: target if attr == name else (_ for _ in ()).throw(AttributeError(attr))  # type: ignore[attr-defined]

    class Holder:  # not a module at all, but in sys.modules (some packages do this)
        def __getattr__(self, attr: str) -> object:
            if attr == name:
                return target
            raise AttributeError(attr)

    broken = types.ModuleType("mlp_broken")  # its __getattr__ fails to import: skops skips it
    broken.__getattr__ = lambda attr: (_ for _ in ()).throw(ImportError(attr))  # type: ignore[attr-defined]
    return target, name, lazy, Holder(), broken


def test_lazy_modules_and_non_modules_are_asked_with_getattr(planted, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    target, name, lazy, holder, broken = planted
    assert FAST(target, name) == ORIGINAL(target, name) == "__main__"
    monkeypatch.setitem(sys.modules, "mlp_broken", broken)
    monkeypatch.setitem(sys.modules, "mlp_holder", holder)
    assert FAST(target, name) == ORIGINAL(target, name) == "mlp_holder"
    monkeypatch.delitem(sys.modules, "mlp_holder")
    monkeypatch.setitem(sys.modules, "mlp_lazy", lazy)
    assert FAST(target, name) == ORIGINAL(target, name) == "mlp_lazy"


def test_the_first_module_in_import_order_wins(planted, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    target, name, lazy, _, _ = planted
    first, second = types.ModuleType("mlp_first"), types.ModuleType("mlp_second")
    setattr(second, name, target)
    setattr(first, name, target)
    monkeypatch.setitem(sys.modules, "mlp_first", first)
    monkeypatch.setitem(sys.modules, "mlp_second", second)
    assert FAST(target, name) == ORIGINAL(target, name) == "mlp_first"
    setattr(first, name, object())  # the same name, another object: not a match
    assert FAST(target, name) == ORIGINAL(target, name) == "mlp_second"


def test_a_fresh_process_imports_skops_with_the_fast_search_and_the_same_trusted_types() -> None:
    """In a process holding Dagster and the platform (as a run does), the trusted-type lists skops
    built at import equal what its own search gives for the same ufuncs."""
    code = (
        "import dagster, sklearn.ensemble, ml_platform.definitions\n"
        "from ml_platform.integrations.skops_import import import_skops_io\n"
        "import_skops_io()\n"
        "import numpy as np, scipy.special\n"
        "from skops.io import _trusted_types as t, _utils as u\n"
        "original = u.whichmodule.__wrapped__\n"
        "def names(module):\n"
        "    objs = [getattr(module, n) for n in dir(module)]\n"
        "    return sorted({f'{original(o, o.__name__)}.{o.__name__}' for o in objs\n"
        "                   if isinstance(o, np.ufunc) and original(o, o.__name__).startswith(module.__name__.rpartition('.')[0])})\n"
        "assert t.NUMPY_UFUNC_TYPE_NAMES == names(np), 'numpy'\n"
        "assert t.SCIPY_UFUNC_TYPE_NAMES == names(scipy.special), 'scipy'\n"
        "print(len(t.NUMPY_UFUNC_TYPE_NAMES) + len(t.SCIPY_UFUNC_TYPE_NAMES))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert int(done.stdout.strip()) > 250
