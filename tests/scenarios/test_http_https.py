"""HTTPS on HTTP_Listener (use_ssl): real TLS clients (ssl + http.client, curl) against a real
daemon, with the SMTP listener's TLS options (tls_protocols, client certificates), and a
use_ssl Listen without a certificate refusing to start at its file:line:col."""
from __future__ import annotations

import http.client
import json
import re
import ssl
import subprocess

import pytest

from tests.helpers.certs import make_pki
from tests.helpers.daemon import DaemonStartError, free_port, start_daemon
from tests.helpers.sink import SmtpSink
from tests.helpers.tools import need_tool
from tests.scenarios.smtp_harness import wait_for

CONF = """
gateway = "127.0.0.1:{sink}"
HTTP_Listener {{
  rest_api_keys = ( "k-tls" )
  idle_time = 5
  use_ssl = true
  tls_certificate = "{cert}"
  tls_key = "{key}"
  {extra}
  Listen "127.0.0.1:{port}" {{ }}
}}
"""
PAYLOAD = {"recipients": [{"address": "tls@dest.example"}],
           "content": {"from": "app@sender.example", "subject": "over https", "text": "secret"}}


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("https-pki"))


def _conf(pki, port, sink, extra=""):
    return CONF.format(port=port, sink=sink, cert=pki.server_cert, key=pki.server_key, extra=extra)


def _client_context(pki, *, maximum=None, cert=False):
    ctx = ssl.create_default_context(cafile=str(pki.ca_cert))
    if maximum is not None:
        ctx.maximum_version = maximum
    if cert:
        ctx.load_cert_chain(str(pki.client_cert), str(pki.client_key))
    return ctx


def _post(port, ctx, payload=PAYLOAD):
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=10)
    try:
        conn.request("POST", "/api/v1/transmissions", body=json.dumps(payload),
                     headers={"Authorization": "k-tls", "Content-Type": "application/json"})
        response = conn.getresponse()
        return response.status, json.loads(response.read()), conn.sock.version()
    finally:
        conn.close()


def test_https_injection_with_http_client_and_curl(tmp_path, pki):
    port = free_port()
    with SmtpSink("127.0.0.1") as sink, \
            start_daemon(_conf(pki, port, sink.port, 'tls_protocols = "+TLSv1.3"'), tmp_path) as d:
        d.wait_for_paniclog("ecelerity: started")
        status, answer, version = _post(port, _client_context(pki))
        assert status == 200 and answer["results"]["total_accepted_recipients"] == 1, answer
        assert version == "TLSv1.3"
        curl = need_tool("curl")
        out = subprocess.run(
            [curl, "-sS", "--cacert", str(pki.ca_cert), "-H", "Authorization: k-tls",
             "-H", "Content-Type: application/json", "--data", json.dumps(PAYLOAD),
             f"https://127.0.0.1:{port}/api/v1/transmissions"],
            capture_output=True, text=True, timeout=20)
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout)["results"]["total_accepted_recipients"] == 1
        # tls_protocols = +TLSv1.3: a TLSv1.2-only client is refused at the handshake
        with pytest.raises(ssl.SSLError):
            _post(port, _client_context(pki, maximum=ssl.TLSVersion.TLSv1_2))
        # plaintext HTTP on the TLS port gets no HTTP answer
        plain = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        with pytest.raises((http.client.HTTPException, ConnectionError)):
            plain.request("GET", "/")
            plain.getresponse()
        plain.close()
        assert wait_for(lambda: "HTTPS handshake with 127.0.0.1" in d.paniclog_text(), timeout=10)
        assert wait_for(lambda: len(sink.messages) >= 2, timeout=20), d.diagnostics()
        assert d.alive()
    assert {m.rcpts[0] for m in sink.messages} == {"tls@dest.example"}
    assert all(b"secret" in m.body for m in sink.messages)


def test_client_certificate_required(tmp_path, pki):
    port = free_port()
    extra = f'tls_client_ca = "{pki.ca_cert}"\n  tls_verify_mode = "require"'
    with start_daemon(_conf(pki, port, free_port(), extra), tmp_path) as d:
        d.wait_for_paniclog("ecelerity: started")
        status, answer, _ = _post(port, _client_context(pki, cert=True))
        assert status == 200, answer
        with pytest.raises((ssl.SSLError, ConnectionError)):
            _post(port, _client_context(pki))
        assert d.alive()


def test_use_ssl_without_certificate_refuses_to_start(tmp_path):
    port = free_port()
    conf = f"""
HTTP_Listener {{
  rest_api_keys = ( "k" )
  Listen "127.0.0.1:{port}" {{
    use_ssl = true
  }}
}}
"""
    with pytest.raises(DaemonStartError) as failed:
        start_daemon(conf, tmp_path, timeout=15)
    text = str(failed.value)
    assert re.search(r"ecelerity\.conf:\d+:\d+: use_ssl on HTTP_Listener needs tls_certificate "
                     r"and tls_key", text), text


def test_use_ssl_with_unreadable_key_refuses_to_start(tmp_path, pki):
    port = free_port()
    conf = _conf(pki, port, free_port()).replace(str(pki.server_key), str(pki.client_key))
    with pytest.raises(DaemonStartError) as failed:
        start_daemon(conf, tmp_path, timeout=15)
    assert re.search(r"ecelerity\.conf:\d+:\d+: use_ssl on Listen 127\.0\.0\.1:\d+: tls_certificate",
                     str(failed.value)), str(failed.value)
