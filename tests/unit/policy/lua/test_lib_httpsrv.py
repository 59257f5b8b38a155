"""msys.httpsrv.register and the session object, on a real runtime (every engine)."""
from __future__ import annotations

from ecelerity.http.responses import Response
from ecelerity.http.router import Request
from ecelerity.http.settings import ListenSettings
from ecelerity.policy.lua.lib_httpsrv import serve

from .conftest import values

SETTINGS = ListenSettings("127.0.0.1:0", 5.0, 1000, False, ())


def _request(method="GET", path="/x", body=b"", headers=None, query=""):
    return Request(method, path, query, "HTTP/1.1", headers or {}, body, "127.0.0.9", 4000,
                   "127.0.0.1:0", SETTINGS)


def test_register_and_serve(rt, run):
    assert values(run("""
        return msys.httpsrv.register("post", "/api/x/", function(s)
          local u = s:request_url_get()
          s:response_header_set("X-Path", u.path)
          s:response_status_set_std(202, s:request_method_get() .. " " .. u.url .. " "
            .. (s:request_header_get("x-h") or "-") .. " " .. s:request_body_get()
            .. " " .. s:request_remote_addr_get(), "text/x-test")
        end)""")) == (True,)
    table = rt.http_endpoints
    assert table.listing() == ["POST /api/x"]
    endpoint = table.find("POST", "/api/x/deeper")
    assert table.find("GET", "/api/x") is None and table.find("POST", "/api/xy") is None
    response = serve(endpoint, _request("POST", "/api/x/deeper", b"hi", {"x-h": "v"}, "q=1"))
    assert isinstance(response, Response)
    assert (response.status, response.body) == (202, b"POST /api/x/deeper?q=1 v hi 127.0.0.9")
    assert response.content_type == "text/x-test" and response.headers == [("X-Path", "/api/x/deeper")]


def test_errors_are_500_and_bad_calls_are_lua_errors(rt, run):
    values(run('msys.httpsrv.register("/fail", function(s) error("nope") end)'))
    response = serve(rt.http_endpoints.find("DELETE", "/fail"), _request("DELETE", "/fail"))
    assert response.status == 500 and b'"code":"1500"' in response.body
    assert any("nope" in text for _, text in rt.logged)
    assert not run('msys.httpsrv.register("GET", "/x", "not a function")').ok
    bad_status = run("""msys.httpsrv.register("/s", function(s) s:response_status_set_std(999, "x") end)""")
    assert bad_status.ok
    assert serve(rt.http_endpoints.find("GET", "/s"), _request(path="/s")).status == 500
    values(run('msys.httpsrv.register("/empty", function(s) end)'))
    assert serve(rt.http_endpoints.find("GET", "/empty"), _request(path="/empty")).status == 200
