"""msys.expandMacro: expand %{...} macros against the current call's context.

Installed by libraries.py. Supported subset (anything else expands to ""):
  %{vctx_conn:KEY}    connection context variable (vctx:get(VCTX_CONN, KEY))
  %{vctx_mess:KEY}    message context variable
  %{header:NAME}      first value of header NAME of the current message
  %{mailfrom}         envelope sender of the current message
  %{rcptto}           first envelope recipient of the current message
  %%                  a literal %
Never does I/O.
"""
from __future__ import annotations

import re
from typing import Any

_MACRO = re.compile(rb"%%|%\{([a-z_]+)(?::([^}]*))?\}")


def _lookup(runtime: Any, kind: bytes, argument: bytes | None) -> bytes:
    context = runtime.current()
    arg = (argument or b"").decode("utf-8", "surrogateescape")
    value: Any = None
    if kind in (b"vctx_conn", b"vctx_mess") and context.vctx is not None:
        value = context.vctx.get("conn" if kind == b"vctx_conn" else "mess", arg)
    elif kind == b"header" and context.msg is not None:
        values = context.msg.header(arg)
        value = values[0] if values else None
    elif kind == b"mailfrom" and context.msg is not None:
        value = context.msg.mailfrom()
    elif kind == b"rcptto" and context.msg is not None:
        value = context.msg.rcptto()
    if value is None:
        return b""
    return value if isinstance(value, bytes) else str(value).encode("utf-8", "surrogateescape")


def expand_macro(runtime: Any, text: bytes) -> bytes:
    def replace(found: re.Match) -> bytes:
        if found.group(0) == b"%%":
            return b"%"
        return _lookup(runtime, found.group(1), found.group(2))
    return _MACRO.sub(replace, bytes(text))


FUNCTIONS = {"msys.expandMacro": expand_macro}
