"""Hot paths with a pure-Python reference and an optional Cython twin.

Each ``<name>.py`` here is the reference implementation and the single source of
truth. Its compiled twin ``_c_<name>.pyx`` is built at install time as an optional
extension. The bottom of each reference module asks ``compiled_twin(name)`` (the one
import switch) and, when it gets the twin, swaps in its names. Environment switches
(read once, at import):

- ``ECELERITY_PURE_PYTHON=1``: never use a compiled twin.
- ``ECELERITY_REQUIRE_CEXT=1``: a missing compiled twin is an ImportError.

Nothing in this package may import from the rest of ecelerity.
"""
import importlib
import os
from types import ModuleType

PURE_PYTHON = os.environ.get("ECELERITY_PURE_PYTHON", "") not in ("", "0")
REQUIRE_CEXT = os.environ.get("ECELERITY_REQUIRE_CEXT", "") not in ("", "0") and not PURE_PYTHON


def compiled_twin(name: str) -> ModuleType | None:
    """The compiled twin ``_c_<name>``; None when pure Python is forced or it is not built
    (an ImportError instead under ECELERITY_REQUIRE_CEXT=1, saying how to build it)."""
    if PURE_PYTHON:
        return None
    try:
        return importlib.import_module(f"{__name__}._c_{name}")
    except ImportError as exc:
        if REQUIRE_CEXT:
            raise ImportError(
                f"ECELERITY_REQUIRE_CEXT=1 but the compiled twin {__name__}._c_{name} "
                f"is missing ({exc}); build it with `make setup` or "
                "`python setup.py build_ext --inplace`, or set ECELERITY_PURE_PYTHON=1"
            ) from exc
        return None
