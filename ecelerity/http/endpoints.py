"""The table of Lua HTTP endpoints (``msys.httpsrv.register``) that router.py serves.

One table per daemon, kept on the App (``endpoints_of(app)``). Lua scripts add to
it through policy/lua/lib_httpsrv.py when they load; the httpsrv module
(modules/httpsrv.py) turns serving on while it is loaded and empties the table when
it unloads, so a reload (every module unloaded, then loaded again) leaves only the
new scripts' endpoints. Matching follows Momentum: an endpoint is a base URI path
(trailing slash optional) that also serves the paths below it; the longest match
wins; a nil method serves every method. Entries hold a weak proxy to their Lua
runtime: an endpoint whose runtime is gone is dropped, never called. Never calls Lua.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ANY_METHOD = "*"


@dataclass
class Endpoint:
    method: str  # upper case, or ANY_METHOD
    path: str  # normalised: leading "/", no trailing "/" (except the root "/")
    runtime: Any  # weak proxy to the policy/lua LuaRuntime that owns ``function``
    function: Any  # the Lua function(session), anchored on the runtime's main state

    def alive(self) -> bool:
        try:
            return self.runtime.sandbox is not None
        except ReferenceError:
            return False


def normalise_path(path: str) -> str:
    path = "/" + path.strip().lstrip("/")
    return path.rstrip("/") or "/"


class LuaEndpoints:
    """Method+path -> Endpoint; ``enabled`` only while the httpsrv module is loaded."""

    def __init__(self) -> None:
        self.enabled = False
        self._entries: dict[tuple[str, str], Endpoint] = {}

    def add(self, method: str | None, path: str, runtime: Any, function: Any) -> Endpoint:
        method_key = (method or ANY_METHOD).upper()
        endpoint = Endpoint(method_key, normalise_path(path), runtime, function)
        self._entries[(method_key, endpoint.path)] = endpoint  # re-registering replaces
        return endpoint

    def find(self, method: str, path: str) -> Endpoint | None:
        """The endpoint serving ``method path`` (longest base path), or None."""
        wanted = normalise_path(path)
        best: Endpoint | None = None
        for key, endpoint in list(self._entries.items()):
            if not endpoint.alive():
                del self._entries[key]
                continue
            if endpoint.method not in (ANY_METHOD, method.upper()):
                continue
            base = endpoint.path
            if wanted == base or base == "/" or wanted.startswith(base + "/"):
                if best is None or len(base) > len(best.path) or (
                        len(base) == len(best.path) and best.method == ANY_METHOD):
                    best = endpoint
        return best

    def listing(self) -> list[str]:
        return sorted(f"{e.method} {e.path}" for e in self._entries.values() if e.alive())

    def clear(self) -> None:
        self._entries.clear()


def endpoints_of(app: Any) -> LuaEndpoints:
    """The daemon's endpoint table (created on first use)."""
    table = getattr(app, "http_endpoints", None)
    if table is None:
        table = LuaEndpoints()
        app.http_endpoints = table
    return table
