"""msys.config and msys.bounce.*: read-only views of the daemon's configuration and
bounce classifier.

Installed by libraries.py.
  msys.config(option [, {binding=..., domain=...}]) -> the option's value as the
      resolver gives it (Config.get: the sending-side fallback), rendered to Lua
      types (lists become arrays); nil when the runtime has no Config. Setting
      options from Lua is not supported (error).
  msys.bounce.classify_smtp_response(text [, domain]) -> classification code, name
  msys.bounce.classify(text) -> same (Momentum passes a message; we classify the
      reply text given)
Never reads configuration around the resolver.
"""
from __future__ import annotations

import re
from typing import Any

_REPLY = re.compile(r"^\s*(\d{3})[ -]?(\d\.\d{1,3}\.\d{1,3})?\s*(.*)$", re.S)


class ConfigAccessError(ValueError):
    pass


def config(runtime: Any, option: bytes, scope: Any = None, *rest: Any) -> Any:
    if rest:
        raise ConfigAccessError("msys.config: setting options from Lua is not supported")
    if runtime.config is None:
        return None
    kwargs = {}
    if scope is not None:
        for key in ("binding", "domain"):
            value = scope[key.encode()]
            if value is not None:
                kwargs[key] = bytes(value).decode()
    try:
        value = runtime.config.get(bytes(option).decode(), **kwargs)
    except KeyError as exc:
        raise ConfigAccessError(f"msys.config: unknown option {bytes(option).decode()!r}") from exc
    return runtime.to_lua(value)


def classify_smtp_response(runtime: Any, text: bytes, domain: bytes = b"") -> tuple:
    from ...bounce.classify import classify, name_of
    found = _REPLY.match(bytes(text).decode("utf-8", "replace"))
    if found is None:
        code = classify(0, "", bytes(text).decode("utf-8", "replace"))
    else:
        code = classify(int(found.group(1)), found.group(2) or "", found.group(3))
    return code, name_of(code).encode()


def classify_message(runtime: Any, text: bytes, *ignored: Any) -> tuple:
    return classify_smtp_response(runtime, text)


FUNCTIONS = {"msys.config": config, "msys.bounce.classify_smtp_response": classify_smtp_response,
             "msys.bounce.classify": classify_message}
