"""msys.av.*: virus scans from Lua through the antivirus module's engines (Momentum's msys.av).

Installed by libraries.py.
  msys.av.engines() -> array of the configured engine names (configuration order).
  msys.av.scan([engine_name], [msg], [vctx]) -> status, info, engine, scan_code
  msys.av.scan_part(msgpart, [engine_name], [vctx]) -> status, info, engine, scan_code
      status: msys.av.EC_AV_CLEAN, EC_AV_INFECTED, EC_AV_ERROR (clamd down, timeout),
      EC_AV_UNSCANNABLE (over max_scan_size), EC_AV_NO_ENGINE, EC_AV_NAME_TOO_LONG,
      EC_AV_PART_IS_CONTAINER (scan_part on a multipart); info: the virus name or the
      error text; engine: the engine that found the virus (nil otherwise); scan_code:
      "OK", "FOUND", "ERROR" or nil when no engine answered.
  Arguments may come in any order (Momentum documents engine first; ``scan(msg,
  "clamav1")`` works too). Without an engine name every engine is tried and the
  first virus wins. Without msg, the message of the calling hook is scanned. A
  non-clean result also sets the engine's context variables (antivirus/verdict.py)
  when the call has a validation context; the reply is the script's decision.
Engines come from ``runtime.app`` (set by modules/scriptlet.py); offline there is
none (EC_AV_NO_ENGINE). The scan waits on gevent sockets: only the calling
session's greenlet waits, never the hub.
"""
from __future__ import annotations

from typing import Any

from ...antivirus import engines as av
from ...antivirus import verdict


def _engine_registry(runtime: Any) -> av.EngineRegistry:
    return av.registry_of(getattr(runtime, "app", None))


def engines(runtime: Any) -> Any:
    return runtime.to_lua(_engine_registry(runtime).names())


def _sort_args(runtime: Any, args: tuple) -> tuple[str | None, Any, Any]:
    """(engine name, msg proxy, msgpart proxy) from arguments in any order."""
    name = msg = part = None
    for value in args:
        if value is None:
            continue
        if isinstance(value, (bytes, str)):
            name = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
            continue
        kind = runtime.sandbox.class_of(value)
        kind = kind.decode() if isinstance(kind, bytes) else kind
        if kind == "ec_message":
            msg = value
        elif kind == "ec_msgpart":
            part = value
        elif kind != "validate_context":
            raise TypeError(f"unexpected argument of type {kind or type(value).__name__}")
    return name, msg, part


def _four(result: av.ScanResult) -> tuple:
    def enc(text: str | None) -> bytes | None:
        return text.encode("utf-8", "replace") if text is not None else None
    return result.status, enc(result.info), enc(result.engine), enc(result.scan_code)


def _message_bytes(runtime: Any, msg: Any) -> bytes:
    if msg is not None:
        return bytes(msg[b"raw"](msg))
    current = runtime.current().msg
    if current is None:
        raise ValueError("no message: pass msg, or call it from a data-phase hook")
    return current.raw()


def _run(runtime: Any, name: str | None, scan: Any) -> tuple:
    chosen, refusal = _engine_registry(runtime).pick(name)
    if refusal is not None:
        return _four(refusal)
    vctx = runtime.current().vctx
    if vctx is None:
        return _four(av.scan_with(chosen, scan))

    def scan_and_mark(engine: av.Engine) -> av.ScanResult:
        result = scan(engine)
        verdict.mark_context(vctx, engine.settings, result)
        return result
    return _four(av.scan_with(chosen, scan_and_mark))


def scan(runtime: Any, *args: Any) -> tuple:
    name, msg, part = _sort_args(runtime, args)
    if part is not None:
        return scan_part(runtime, *args)
    data = _message_bytes(runtime, msg)
    return _run(runtime, name, lambda engine: engine.scan_message(data))


def scan_part(runtime: Any, *args: Any) -> tuple:
    from .lib_inject import bindings_of
    name, _msg, proxy = _sort_args(runtime, args)
    if proxy is None:
        raise TypeError("msys.av.scan_part(msgpart [, engine] [, vctx]): msgpart is required")
    part = bindings_of(runtime).methods._unwrap(proxy)
    return _run(runtime, name, lambda engine: engine.scan_part(part))


FUNCTIONS = {"msys.av.engines": engines, "msys.av.scan": scan, "msys.av.scan_part": scan_part}
CONSTANTS = {f"msys.av.{label}": status for status, label in av.STATUS_NAMES.items()}
