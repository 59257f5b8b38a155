"""ecelerity/http/endpoints.py: Momentum's base-path matching and dead runtimes."""
from __future__ import annotations

import weakref

from ecelerity.http.endpoints import LuaEndpoints, endpoints_of, normalise_path


class _Runtime:
    sandbox = object()


def test_longest_base_path_and_method_rules():
    owner = _Runtime()
    table = LuaEndpoints()
    table.add(None, "/a", owner, "any-a")
    table.add("get", "/a/b/", owner, "get-ab")
    table.add("GET", "/a", owner, "get-a")
    assert table.find("GET", "/a/b/c").function == "get-ab"
    assert table.find("POST", "/a/b/c").function == "any-a"  # nil method serves all
    assert table.find("GET", "/a/").function == "get-a"  # exact method beats nil
    assert table.find("GET", "/ab") is None
    assert table.listing() == ["* /a", "GET /a", "GET /a/b"]
    assert normalise_path("x//") == "/x" and normalise_path("/") == "/"


def test_endpoints_of_dead_runtimes_are_dropped():
    owner = _Runtime()
    table = LuaEndpoints()
    table.add("GET", "/gone", weakref.proxy(owner), "f")
    assert table.find("GET", "/gone") is not None
    del owner
    assert table.find("GET", "/gone") is None and table.listing() == []


def test_one_table_per_app():
    class App:
        pass
    app = App()
    assert endpoints_of(app) is endpoints_of(app) and endpoints_of(app).enabled is False
