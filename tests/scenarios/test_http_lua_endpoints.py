"""HTTP_Listener in a real daemon: Lua endpoints (msys.httpsrv.register), the bounds of
the listener (413, idle_time), Momentum's request log line, errors and SIGHUP reload."""
from __future__ import annotations

import http.client
import json
import re
import signal
import socket
import time

from tests.helpers.daemon import free_port, start_daemon

SCRIPT = r'''
msys.httpsrv.register("GET", "/hello", function(session)
  local u = session:request_url_get()
  session:response_header_set("X-Served-By", "lua")
  session:response_status_set_std(201, u.url .. " says: Hello world!", "text/plain")
end)
msys.httpsrv.register("POST", "/echo/", function(session)
  local who = session:request_header_get("X-Who") or "nobody"
  session:response_status_set_std(200, session:request_method_get() .. " " .. who .. " "
                                  .. session:request_body_get(), "text/plain")
end)
msys.httpsrv.register(nil, "/boom", function(session) error("kaboom") end)
'''

CONF = """
HTTP_Listener {{
  log_requests_to_paniclog = true
  max_request_size = 1000
  idle_time = 1
  Listen "127.0.0.1:{port}" {{ }}
}}
{httpsrv}
scriptlet "scriptlet" {{ script "endpoints" {{ source = "endpoints" }} }}
"""


def request(port, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def test_lua_endpoints_limits_log_and_reload(tmp_path):
    (tmp_path / "endpoints.lua").write_text(SCRIPT)
    port = free_port()
    with start_daemon(CONF.format(port=port, httpsrv="httpsrv { }"), tmp_path) as d:
        d.wait_for_paniclog("ecelerity: started")
        status, headers, body = request(port, "GET", "/hello/below?x=1")
        assert (status, body) == (201, b"/hello/below?x=1 says: Hello world!")
        assert headers["X-Served-By"] == "lua" and headers["Content-Type"] == "text/plain"
        status, _, body = request(port, "POST", "/echo", b"ping", {"X-Who": "tester"})
        assert (status, body) == (200, b"POST tester ping")
        assert request(port, "POST", "/hello")[0] == 404  # GET only
        # a failing script: 500 with the error shape, traceback in the paniclog, still serving
        status, _, body = request(port, "GET", "/boom")
        assert status == 500 and json.loads(body)["errors"][0]["code"] == "1500"
        d.wait_for_paniclog(re.compile(r"httpsrv GET /boom: endpoints\.lua:\d+: kaboom"))
        # bounds: max_request_size -> 413, Momentum's error shape, body never read
        status, _, body = request(port, "POST", "/echo", b"x" * 5000)
        assert status == 413 and json.loads(body)["errors"][0]["message"] == "request too large"
        status, _, body = request(port, "GET", "/nowhere")
        assert status == 404 and json.loads(body) == {"errors": [{
            "message": "invalid URI", "code": "1101", "description": "no resource at /nowhere"}]}
        log = d.wait_for_paniclog('"POST echo HTTP/1.1" 413')
        assert re.search(r'^\d+:127\.0\.0\.1 "GET hello/below\?x=1 HTTP/1\.1" 201 \d+ \d+\.\d{3}$',
                         log, re.M), log
        # idle_time = 1: a silent client is cut
        with socket.create_connection(("127.0.0.1", port), timeout=5) as silent:
            started = time.monotonic()
            assert silent.recv(100) == b""
            assert 0.5 < time.monotonic() - started < 4
        # SIGHUP: the listener keeps serving and the endpoints are the reloaded scripts'
        (tmp_path / "endpoints.lua").write_text(SCRIPT.replace("Hello world", "Hello again"))
        d.signal(signal.SIGHUP)
        d.wait_for_paniclog("reload ok")
        assert request(port, "GET", "/hello")[2] == b"/hello says: Hello again!"
        assert d.alive()


def test_without_httpsrv_lua_endpoints_are_not_served(tmp_path):
    (tmp_path / "endpoints.lua").write_text(SCRIPT)
    port = free_port()
    with start_daemon(CONF.format(port=port, httpsrv=""), tmp_path) as d:
        d.wait_for_paniclog("ecelerity: started")
        assert request(port, "GET", "/hello")[0] == 404
