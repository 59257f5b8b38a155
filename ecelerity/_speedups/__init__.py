"""Hot paths with a pure-Python reference and an optional Cython twin.

Each ``<name>.py`` here is the reference implementation and the single source of
truth. Its compiled twin ``_c_<name>.pyx`` is built at install time as an optional
extension. The bottom of each reference module does one soft import that swaps
in the twin. Environment switches (read once, at import):

- ``ECELERITY_PURE_PYTHON=1``: never use a compiled twin.
- ``ECELERITY_REQUIRE_CEXT=1``: a missing compiled twin is an ImportError.

Nothing in this package may import from the rest of ecelerity.
"""
import os

PURE_PYTHON = os.environ.get("ECELERITY_PURE_PYTHON", "") not in ("", "0")
REQUIRE_CEXT = os.environ.get("ECELERITY_REQUIRE_CEXT", "") not in ("", "0") and not PURE_PYTHON
