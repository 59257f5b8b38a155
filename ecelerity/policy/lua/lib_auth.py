"""msys.registerAuth: a Lua authentication/authorization scheme for SMTP AUTH.

Installed by libraries.py.
  msys.registerAuth(name, authtable) -> true. Momentum's signature (call it from a
      module's init). ``authtable`` may hold:
        auth:authenticate(filename, paramsdict, username, password)
            -> msys.core.EC_AUTH_OK | EC_AUTH_FAIL | EC_AUTH_ERROR (true/false work too)
        auth:enumGroups(username) -> array of group names, or EC_AUTH_FAIL
        auth:queryGroups() -> array of every group name
      A listener uses the scheme with ``AuthPlainParameters = [ uri = "name://file?k=v" ]``
      and/or ``AuthLoginParameters``: PLAIN/LOGIN credentials then go to
      ``authenticate`` (filename = the URI's path, paramsdict = its query plus the
      dictionary's other keys). EC_AUTH_ERROR, a script error, or a non-answer is
      ``454 4.7.0`` (temporary) at the client. The scheme lives in
      smtp/auth_backends.py's registry (``scheme_groups`` serves enumGroups).
  msys.core.EC_AUTH_OK = 0, EC_AUTH_FAIL = 1, EC_AUTH_ERROR = 2 (ours; Momentum does
      not document the numbers).

Threads: smtp/auth.py checks passwords in gevent's threadpool; Lua must only run on
the hub that owns the runtime, so a call from a worker thread is handed to the hub
(``run_callback_threadsafe``) and the worker waits for the answer (at most
SCHEME_TIMEOUT seconds). A scheme whose runtime was unloaded (reload, stop) answers
nothing, so the next backend decides. Never logs a password.
"""
from __future__ import annotations

import weakref
from typing import Any

import gevent
from gevent.monkey import get_original

EC_AUTH_OK, EC_AUTH_FAIL, EC_AUTH_ERROR = 0, 1, 2
SCHEME_TIMEOUT = 30.0  # seconds a worker thread waits for the hub to run the Lua function

CONSTANTS = {"msys.core.EC_AUTH_OK": EC_AUTH_OK, "msys.core.EC_AUTH_FAIL": EC_AUTH_FAIL,
             "msys.core.EC_AUTH_ERROR": EC_AUTH_ERROR}

_get_ident = get_original("_thread", "get_ident")
_allocate_lock = get_original("_thread", "allocate_lock")


def _is_function(value: Any) -> bool:
    return type(value).__name__ == "_LuaFunction"


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


class LuaAuthScheme:
    """One registered scheme: the Lua table and its runtime (weakly), callable from any thread."""

    def __init__(self, runtime: Any, name: str, table: Any) -> None:
        self.name = name
        self._runtime = runtime if isinstance(runtime, weakref.ProxyTypes) else weakref.proxy(runtime)
        self._table = table
        self._hub = gevent.get_hub()
        self._hub_thread = _get_ident()

    # -- auth_backends.AuthScheme ---------------------------------------------------------
    def authenticate(self, filename: str, params: dict[str, str], user: str, password: str) -> str:
        from ecelerity.smtp.auth_backends import AUTH_ERROR, AUTH_FAIL, AUTH_OK
        answer = self._on_hub(self._authenticate, filename, params, user, password)
        if isinstance(answer, bool):  # before the numbers: False == 0 == EC_AUTH_OK in Python
            return AUTH_OK if answer else AUTH_FAIL
        if answer == EC_AUTH_OK:
            return AUTH_OK
        if answer == EC_AUTH_FAIL:
            return AUTH_FAIL
        return AUTH_ERROR

    def groups(self, user: str) -> list[str] | None:
        return self._on_hub(self._groups, user)

    def all_groups(self) -> list[str] | None:
        return self._on_hub(self._groups, None)

    # -- on the hub -----------------------------------------------------------------------
    def runtime(self) -> Any:
        """The runtime, or None once it is gone or unloaded (retire() was called: the
        scriptlet module's stop() does it)."""
        runtime = self._runtime
        try:
            if runtime.__dict__.get("auth_retired"):
                return None
        except ReferenceError:
            return None
        return runtime

    def _authenticate(self, filename: str, params: dict[str, str], user: str, password: str) -> Any:
        runtime = self.runtime()
        function = self._table[b"authenticate"] if runtime is not None else None
        if not _is_function(function):
            return None
        result = runtime.call(function, self._table, filename.encode(), runtime.to_lua(params),
                              user.encode("utf-8", "surrogateescape"),
                              password.encode("utf-8", "surrogateescape"),
                              what=f"auth scheme {self.name}:authenticate")
        return result.first if result.ok else None

    def _groups(self, user: str | None) -> list[str] | None:
        runtime = self.runtime()
        key = b"queryGroups" if user is None else b"enumGroups"
        function = self._table[key] if runtime is not None else None
        if not _is_function(function):
            return None
        args = () if user is None else (user.encode("utf-8", "surrogateescape"),)
        result = runtime.call(function, self._table, *args, what=f"auth scheme {self.name}:{_text(key)}")
        found = runtime.from_lua(result.first) if result.ok else None
        if not isinstance(found, list):
            return None  # EC_AUTH_FAIL, an error, or not a list: no groups known
        return [_text(group) for group in found]

    def _on_hub(self, function: Any, *args: Any) -> Any:
        """Run ``function`` on the runtime's hub; from another thread, wait for it there."""
        if _get_ident() == self._hub_thread:
            return function(*args)
        done = _allocate_lock()
        done.acquire()
        box: list[Any] = [None]

        def run() -> None:
            try:
                box[0] = function(*args)
            except Exception as exc:  # noqa: BLE001 - reported to the waiting thread
                box[0] = exc
            finally:
                done.release()
        self._hub.loop.run_callback_threadsafe(gevent.spawn, run)
        if not done.acquire(True, SCHEME_TIMEOUT):
            return None  # the hub did not answer in time: an error, never a pass
        if isinstance(box[0], Exception):
            raise box[0]
        return box[0]


def register_auth(runtime: Any, name: bytes, table: Any) -> bool:
    from ecelerity.smtp import auth_backends
    scheme_name = _text(name).strip().lower()
    if not scheme_name or not scheme_name.replace("_", "").replace("-", "").isalnum():
        raise ValueError(f"scheme name {scheme_name!r} must be letters, digits, '-' or '_'")
    if type(table).__name__ != "_LuaTable":
        raise TypeError("msys.registerAuth(name, authtable): authtable must be a table")
    if not any(_is_function(table[key]) for key in (b"authenticate", b"enumGroups", b"queryGroups")):
        raise ValueError("msys.registerAuth: authtable has none of authenticate, enumGroups, "
                         "queryGroups")
    scheme = LuaAuthScheme(runtime, scheme_name, runtime.sandbox.anchor(table))
    runtime.__dict__.setdefault("auth_schemes", {})[scheme_name] = scheme
    auth_backends.register_scheme(scheme_name, scheme)
    _install_smtp_backend(auth_backends.SCHEME_BACKEND)
    return True


def _install_smtp_backend(backend: Any) -> None:
    from ecelerity.smtp import auth
    auth.register_backend(backend, first=True)  # a no-op once installed


def retire(runtime: Any) -> None:
    """Forget every scheme ``runtime`` registered (its scriptlet is being unloaded)."""
    from ecelerity.smtp import auth_backends
    runtime.__dict__["auth_retired"] = True
    for name, scheme in runtime.__dict__.pop("auth_schemes", {}).items():
        auth_backends.unregister_scheme(name, scheme)


FUNCTIONS = {"msys.registerAuth": register_auth}
