"""XCLIENT against the real listener process: a trusted proxy passes on its client, others are refused."""
from __future__ import annotations

import socket


from tests.scenarios.smtp_harness import RawClient, read_spool, smtp_listener

CONF = '''
ESMTP_Listener {
  xclient_hosts = ( "127.0.0.1/32" )
  Listen "127.0.0.1:0" { }
  Peer "192.0.2.0/24" { relay_hosts = ( "192.0.2.0/24" ) max_message_size = 4321 }
}
'''


def from_address(source: str, port: int) -> RawClient:
    """A RawClient whose connection comes from ``source`` (another loopback address)."""
    client = RawClient.__new__(RawClient)
    client.sock = socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(source, 0))
    client.buf = b""
    return client


def test_trusted_proxy_and_untrusted_client(tmp_path):
    with smtp_listener(tmp_path, CONF) as lst:
        untrusted = from_address("127.0.0.3", lst.port)
        untrusted.read_reply()
        assert not any(line.startswith("XCLIENT") for line in untrusted.cmd("EHLO c.test").lines)
        assert untrusted.cmd("XCLIENT ADDR=192.0.2.1").code == 550
        untrusted.close()

        proxy = RawClient(lst.port)
        proxy.read_reply()
        assert any(line.startswith("XCLIENT ") for line in proxy.cmd("EHLO proxy.test").lines)
        assert proxy.cmd("XCLIENT ADDR=192.0.2.9 PORT=2525 HELO=laptop.test").code == 220
        assert "SIZE 4321" in proxy.cmd("EHLO laptop.test").lines  # the Peer scope of 192.0.2.9
        proxy.cmd("MAIL FROM:<a@example.test>")
        assert proxy.cmd("RCPT TO:<b@elsewhere.test>").code == 250  # relay_hosts of that Peer
        assert proxy.cmd("DATA").code == 354
        proxy.send("From: a@example.test\r\n\r\nvia proxy\r\n.\r\n")
        assert proxy.read_reply().code == 250
        proxy.close()
    [(env, data, _)] = read_spool(lst.spool_dir)
    assert (env["peer_ip"], env["peer_port"]) == ("192.0.2.9", 2525)
    assert data.endswith(b"\r\n\r\nvia proxy\r\n")
