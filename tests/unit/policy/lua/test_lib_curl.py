"""curl.* and msys.http.client against a real HTTP server on 127.0.0.1 (a thread);
the transfer runs in the OS thread pool while the hub keeps serving greenlets."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import gevent
import pytest

from .conftest import values

pytest.importorskip("pycurl")


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _answer(self, body: bytes, status: int = 200) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Seen", "a")
        self.send_header("X-Seen", "b")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path.startswith("/slow"):
            threading.Event().wait(0.3)
        if self.path == "/missing":
            return self._answer(b"{}", 404)
        self._answer(json.dumps({"path": self.path, "auth": self.headers.get("X-Key")}).encode())

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        self._answer(json.dumps({"got": self.rfile.read(length).decode()}).encode(), 201)


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_curl_object_get_with_write_and_header_functions(run, server):
    got = values(run("""
        local url = ...
        local c = curl.new()
        local chunks, headers = {}, {}
        c:setopt(curl.OPT_URL, url .. "/hello?x=" .. curl.escape("a b&c"))
        c:setopt(curl.OPT_HTTPHEADER, {"X-Key: k1"})
        c:setopt(curl.OPT_WRITEFUNCTION, function(ud, data) chunks[#chunks + 1] = ud .. data end)
        c:setopt(curl.OPT_WRITEDATA, ">")
        c:setopt(curl.OPT_HEADERFUNCTION, function(ud, line) headers[#headers + 1] = line end)
        local ok = c:perform()
        local code = c:getinfo(curl.INFO_RESPONSE_CODE)
        c:close()
        return ok, code, table.concat(chunks), #headers > 2, curl.unescape("a%20b%26c")""",
        server.encode()))
    assert got[:2] == (True, 200) and got[3:] == (True, b"a b&c")
    assert json.loads(got[2][1:]) == {"path": "/hello?x=a%20b%26c", "auth": "k1"}


def test_http_client_post_status_body_and_parsed_headers(run, server):
    got = values(run("""
        local url = ...
        local client = msys.http.client.new()
        client:set_header("X-Key", "k2")
        client:set_timeout(5)
        local ok = client:do_request("POST", url .. "/submit", "payload=1")
        local h = client:parse_headers()
        local post = {ok, client:get_status(), client:get_body(), h["x-seen"], h["content-type"]}
        client:do_request("GET", url .. "/missing")
        return post[1], post[2], post[3], post[4], post[5], client:get_status(),
               client:get_headers():sub(1, 12)""", server.encode()))
    assert got[:2] == (True, 201) and json.loads(got[2]) == {"got": "payload=1"}
    assert got[3:] == (b"a, b", b"application/json", 404, b"HTTP/1.0 404")


def test_errors_and_refused_protocols(run, tmp_path):
    (tmp_path / "f.txt").write_text("local file")
    got = values(run("""
        local c = curl.new()
        c:setopt(curl.OPT_URL, ...)
        local ok, err = c:perform()
        local d = curl.new()
        d:setopt(curl.OPT_URL, "http://127.0.0.1:1/")
        local ok2, err2 = d:perform()
        return ok, err, ok2, err2""", f"file://{tmp_path}/f.txt".encode()))
    assert got[0] is None and b"curl error" in got[1]
    assert got[2] is None and b"curl error 7" in got[3]
    assert "unsupported curl option" in run("curl.new():setopt('VERBOSE', 1)").error
    assert "OPT_URL" in run("curl.new():perform()").error


def test_a_slow_request_does_not_block_the_hub(run, server):
    ticks = []
    ticker = gevent.spawn(lambda: [ticks.append(1) or gevent.sleep(0.02) for _ in range(10)])
    got = values(run("""
        local c = msys.http.client.new()
        c:do_request("GET", ... .. "/slow")
        return c:get_status()""", server.encode()))
    during = len(ticks)  # ticks counted while the request was in flight
    ticker.join()
    assert got == (200,) and during >= 8
