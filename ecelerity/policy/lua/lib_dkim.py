"""msys.validate.opendkim.*: DKIM verification results and signing from Lua.

Installed by libraries.py; needs the opendkim module loaded (dkim/service.py,
found through ``runtime.app``), else each call is a Lua error saying so.
  msys.validate.opendkim.verify(msg) -> dkim, stat: every signature verified;
      ``dkim`` is a table {status=, signatures={...}} (libopendkim's DKIM handle).
  .get_num_sigs(dkim) -> n, stat          .get_sig(dkim [, i]) -> sig, stat (i from 0)
  .get_sig_domain(sig) / .get_sig_selector / .get_sig_identity / .get_sig_signalg
      (e.g. "rsa-sha256") / .get_sig_errorstr ("" when it passed) -> string
  .get_sig_canons(sig) -> header_canon, body_canon ("relaxed" | "simple")
  .get_sig_flags(sig) -> DKIM_SIGFLAG_* bits      .get_sig_keysize(sig) -> bits, stat
  .get_sig_hdrsigned(sig, name) -> boolean
  .sign(msg [, vctx [, options]]) -> true, or nil and why: prepends a DKIM-Signature;
      options override the module's: base_domain | signing_domain, selector,
      header_canon, body_canon, digest, headerlist (array or "a:b"), identity,
      keyfile (%{d}/%{s} template), keybuf (the PEM, or its bare base64 body).
Constants: msys.validate.opendkim.DKIM_STAT_* and DKIM_SIGFLAG_*. Key lookups go
through the module's DnsResolver on gevent sockets (only this greenlet waits).
"""
from __future__ import annotations

from typing import Any

from ...dkim import verifier
from ...smtp.headers import split_message
from .lib_rfc3464 import raw_of

_NS = "msys.validate.opendkim."


def _service(runtime: Any) -> Any:
    from ...dkim.service import service_for
    service = service_for(getattr(runtime, "app", None))
    if service is None:
        raise RuntimeError("the opendkim module is not loaded (add an opendkim stanza)")
    return service


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _sig_table(sig: verifier.SignatureResult) -> dict[str, Any]:
    return {"kind": "DKIM_SIGINFO", "domain": sig.domain, "selector": sig.selector,
            "identity": sig.identity, "signalg": sig.algorithm, "header_canon": sig.header_canon,
            "body_canon": sig.body_canon, "headers": list(sig.signed_headers),
            "keysize": sig.keysize, "flags": sig.flags, "errorstr": sig.error,
            "status": sig.status, "result": sig.result}


def _field(table: Any, key: str, kind: str) -> Any:
    if table is None or type(table).__name__ != "_LuaTable" or _text(table[b"kind"]) != kind:
        raise TypeError(f"expected a {kind} (from msys.validate.opendkim."
                        f"{'verify' if kind == 'DKIM' else 'get_sig'})")
    return table[key.encode()]


def verify(runtime: Any, msg: Any) -> Any:
    result = _service(runtime).verify(raw_of(runtime, msg))
    handle = {"kind": "DKIM", "status": result.status, "result": result.summary,
              "signatures": [_sig_table(sig) for sig in result.signatures]}
    return runtime.table(handle), result.status


def get_num_sigs(runtime: Any, dkim: Any) -> Any:
    sigs = _field(dkim, "signatures", "DKIM")
    return len(sigs), _field(dkim, "status", "DKIM")


def get_sig(runtime: Any, dkim: Any, index: Any = 0) -> Any:
    sigs = _field(dkim, "signatures", "DKIM")
    position = int(index or 0)
    if not 0 <= position < len(sigs):
        return None, verifier.STAT_NOSIG  # libopendkim: index past the last signature
    sig = sigs[position + 1]
    return sig, sig[b"status"]


def _getter(key: str) -> Any:
    def get(runtime: Any, sig: Any) -> Any:
        return _field(sig, key, "DKIM_SIGINFO")
    get.__name__ = f"get_sig_{key}"
    return get


def get_sig_canons(runtime: Any, sig: Any) -> Any:
    return _field(sig, "header_canon", "DKIM_SIGINFO"), _field(sig, "body_canon", "DKIM_SIGINFO")


def get_sig_keysize(runtime: Any, sig: Any) -> Any:
    return _field(sig, "keysize", "DKIM_SIGINFO"), _field(sig, "status", "DKIM_SIGINFO")


def get_sig_hdrsigned(runtime: Any, sig: Any, name: Any) -> bool:
    headers = _field(sig, "headers", "DKIM_SIGINFO")
    wanted = _text(name).strip().lower()
    return any(_text(value) == wanted for value in headers.values())


def sign(runtime: Any, msg: Any, vctx: Any = None, options: Any = None) -> Any:
    service = _service(runtime)
    overrides: dict[str, Any] = {}
    if options is not None:
        for key, value in options.items():
            if type(value).__name__ == "_LuaTable":
                value = [_text(item) for item in value.values()]
            elif isinstance(value, bytes):
                value = _text(value)
            overrides[_text(key)] = value
    raw = raw_of(runtime, msg)
    header_block = split_message(raw).header_block
    field = service.sign_bytes(raw, header_block, overrides)
    if field is None:
        return None, b"message not signed (see signing_stats and the paniclog)"
    msg[b"raw"](msg, field + raw)
    return True


FUNCTIONS = {
    _NS + "verify": verify, _NS + "get_num_sigs": get_num_sigs, _NS + "get_sig": get_sig,
    _NS + "get_sig_canons": get_sig_canons, _NS + "get_sig_domain": _getter("domain"),
    _NS + "get_sig_errorstr": _getter("errorstr"), _NS + "get_sig_flags": _getter("flags"),
    _NS + "get_sig_hdrsigned": get_sig_hdrsigned, _NS + "get_sig_identity": _getter("identity"),
    _NS + "get_sig_keysize": get_sig_keysize, _NS + "get_sig_selector": _getter("selector"),
    _NS + "get_sig_signalg": _getter("signalg"), _NS + "sign": sign,
}
CONSTANTS = {**{_NS + name: number for number, name in verifier.STAT_NAMES.items()},
             _NS + "DKIM_SIGFLAG_PROCESSED": verifier.SIGFLAG_PROCESSED,
             _NS + "DKIM_SIGFLAG_PASSED": verifier.SIGFLAG_PASSED,
             _NS + "DKIM_SIGFLAG_TESTKEY": verifier.SIGFLAG_TESTKEY,
             _NS + "DKIM_SIGFLAG_KEYLOADED": verifier.SIGFLAG_KEYLOADED}
