"""msys.core.* constants and helpers, and msys.registerModule.

Installed by libraries.py. Constants (values are ours, see registry.py):
  VALIDATE_CONT=0, VALIDATE_DONE=1, VALIDATE_AGAIN=2,
  VCTX_CONN="conn", VCTX_MESS="mess", ECMESS_CTX_CONN="conn", ECMESS_CTX_MESS="mess"
  (the same strings ecelerity.policy.vctx uses), EC_MSG_ENV_FROM=0, EC_MSG_ENV_TO=1.
  msys.core.get_now_ts() -> seconds since the epoch (float).
Never does I/O.
"""
from __future__ import annotations

import time
from typing import Any

from .registry import VALIDATE_AGAIN, VALIDATE_CONT, VALIDATE_DONE

CONSTANTS = {
    "msys.core.VALIDATE_CONT": VALIDATE_CONT, "msys.core.VALIDATE_DONE": VALIDATE_DONE,
    "msys.core.VALIDATE_AGAIN": VALIDATE_AGAIN,
    "msys.core.VCTX_CONN": b"conn", "msys.core.VCTX_MESS": b"mess",
    "msys.core.ECMESS_CTX_CONN": b"conn", "msys.core.ECMESS_CTX_MESS": b"mess",
    "msys.core.EC_MSG_ENV_FROM": 0, "msys.core.EC_MSG_ENV_TO": 1,
}


def register_module(runtime: Any, name: Any, table: Any = None) -> bool:
    return runtime.registry.register(name, table)


def get_now_ts(runtime: Any) -> float:
    return time.time()


FUNCTIONS = {"msys.registerModule": register_module, "msys.core.get_now_ts": get_now_ts}
