"""ecelerity/smtp/xclient.py: attribute parsing, trust, and the restart on a real loopback socket."""
from __future__ import annotations

import pytest

from ecelerity.policy.phases import HookRegistry
from ecelerity.policy.relay import parse_networks
from ecelerity.smtp import xclient
from ecelerity.smtp.settings import SessionSettings
from tests.helpers.inproc_smtp import SessionServer
from tests.scenarios.smtp_harness import RawClient

MESSAGE = "From: a@example.test\r\n\r\nhello\r\n.\r\n"


def settings_with(**values):
    def make(peer):
        settings = SessionSettings(hostname="mx.test")
        for name, value in values.items():
            setattr(settings, name, value)
        return settings
    return make


TRUSTED = settings_with(xclient_hosts=parse_networks(["127.0.0.0/8"]))


def connect(port: int) -> tuple[RawClient, list[str]]:
    client = RawClient(port)
    assert client.read_reply().code == 220
    return client, client.cmd("EHLO proxy.test").lines


def test_parse_attributes_xtext_and_unavailable():
    attrs = xclient.parse_attributes("addr=192.0.2.1 NAME=[UNAVAILABLE] HELO=a+2Bb+3Dc LOGIN=[TEMPUNAVAIL]")
    assert attrs == {"ADDR": "192.0.2.1", "NAME": None, "HELO": "a+b=c", "LOGIN": None}
    for bad in ("", "FOO=1", "ADDR", "=x"):
        with pytest.raises(xclient.XclientError):
            xclient.parse_attributes(bad)


def test_untrusted_peer_is_refused_and_not_offered(tmp_path):
    with SessionServer(tmp_path, settings_with(xclient_hosts=parse_networks(["10.0.0.0/8"]))) as srv:
        client, ehlo = connect(srv.port)
        assert not any(line.startswith("XCLIENT") for line in ehlo)
        reply = client.cmd("XCLIENT ADDR=192.0.2.7")
        assert (reply.code, reply.lines[0]) == (550, "5.7.0 Error: insufficient authorization")
        client.close()
    with SessionServer(tmp_path / "unset") as srv:  # xclient_hosts unset: nobody
        client, _ = connect(srv.port)
        assert client.cmd("XCLIENT ADDR=192.0.2.7").code == 550
        client.close()


def test_trusted_proxy_passes_the_client_on(tmp_path):
    hooks = HookRegistry()
    connects = []
    hooks.register("connect", lambda vctx: connects.append(dict(vctx.conn)))
    with SessionServer(tmp_path, TRUSTED, hooks=hooks) as srv:
        client, ehlo = connect(srv.port)
        assert "XCLIENT NAME ADDR PORT PROTO HELO LOGIN DESTADDR DESTPORT" in ehlo
        reply = client.cmd("XCLIENT ADDR=192.0.2.7 PORT=4711 NAME=client.example.test")
        assert reply.code == 220 and "mx.test" in reply.text
        assert client.cmd("MAIL FROM:<a@example.test>").code == 250  # no EHLO needed by default
        client.cmd("RSET")
        assert client.cmd("EHLO real-client.test").code == 250
        client.cmd("MAIL FROM:<a@example.test>")
        assert client.cmd("RCPT TO:<b@elsewhere.test>").code == 550  # the new client may not relay
        assert client.cmd("RCPT TO:<postmaster>").code == 250
        assert client.cmd("DATA").code == 354
        client.send(MESSAGE)
        assert client.read_reply().code == 250
        client.close()
    [(env, _data, _rcpts)] = srv.stored()
    assert (env["peer_ip"], env["peer_port"], env["helo"]) == ("192.0.2.7", 4711, "real-client.test")
    assert env["conn_context"]["xclient_name"] == "client.example.test"
    assert env["conn_context"]["xclient_real_peer"] == "127.0.0.1"
    assert len(connects) == 2  # the connect phase ran again for the new client


def test_login_helo_proto_and_ipv6(tmp_path):
    with SessionServer(tmp_path, TRUSTED) as srv:
        client, _ = connect(srv.port)
        reply = client.cmd("XCLIENT ADDR=IPV6:2001:db8::7 LOGIN=bob HELO=laptop.example.test PROTO=ESMTP")
        assert reply.code == 220
        client.cmd("MAIL FROM:<bob@example.test>")
        assert client.cmd("RCPT TO:<x@elsewhere.test>").code == 250  # LOGIN: authenticated
        assert client.cmd("DATA").code == 354
        client.send(MESSAGE)
        assert client.read_reply().code == 250
        # XCLIENT again (trust is judged on the real peer, not on 2001:db8::7)
        assert client.cmd("XCLIENT LOGIN=[UNAVAILABLE]").code == 220
        client.close()
    [(env, _data, _rcpts)] = srv.stored()
    assert (env["peer_ip"], env["auth_user"], env["helo"]) == ("2001:db8::7", "bob", "laptop.example.test")
    assert env["conn_context"]["auth_name"] == "XCLIENT"


def test_syntax_errors_and_transaction_in_progress(tmp_path):
    with SessionServer(tmp_path, TRUSTED) as srv:
        client, _ = connect(srv.port)
        for arg in ("XCLIENT", "XCLIENT ADDR=999.1.1.1", "XCLIENT PORT=70000", "XCLIENT PROTO=UUCP",
                    "XCLIENT COLOR=red"):
            reply = client.cmd(arg)
            assert (reply.code, reply.lines[0][:5]) == (501, "5.5.4"), arg
        client.cmd("MAIL FROM:<a@example.test>")
        assert client.cmd("XCLIENT ADDR=192.0.2.1").lines == ["5.5.1 Error: MAIL transaction in progress"]
        client.close()


def test_connect_phase_can_refuse_the_new_client(tmp_path):
    hooks = HookRegistry()

    def refuse_documentation_net(vctx):
        if srv.sessions and srv.sessions[-1].peer_ip.startswith("192.0.2."):
            vctx.set_code(554, "5.7.1 go away")
            return 1
        return None

    hooks.register("connect", refuse_documentation_net)
    with SessionServer(tmp_path, TRUSTED, hooks=hooks) as srv:
        client, _ = connect(srv.port)
        reply = client.cmd("XCLIENT ADDR=192.0.2.9")
        assert (reply.code, reply.lines[0]) == (554, "5.7.1 go away")
        assert client.is_closed()
        client.close()


def test_settings_are_resolved_again_for_the_new_address(tmp_path):
    """A real Config: the Peer scope of the new ADDR applies after XCLIENT (SIZE in EHLO)."""
    from ecelerity.config.loader import load_config

    conf = tmp_path / "ecelerity.conf"
    conf.write_text('ESMTP_Listener {\n  max_message_size = 5000\n  Listen "127.0.0.1:0" { }\n'
                    '  Peer "192.0.2.0/24" { max_message_size = 1234 }\n}\n')
    cfg = load_config(str(conf))

    def make(peer):
        settings = SessionSettings.resolve(cfg, listen="127.0.0.1:0", peer_ip=peer)
        settings.xclient_hosts = parse_networks(["127.0.0.1"])  # trust: judged on these settings
        return settings

    with SessionServer(tmp_path, make) as srv:
        client, ehlo = connect(srv.port)
        assert "SIZE 5000" in ehlo
        assert client.cmd("XCLIENT ADDR=192.0.2.50").code == 220
        assert "SIZE 1234" in client.cmd("EHLO proxy.test").lines
        assert client.cmd("XCLIENT ADDR=198.51.100.1").code == 220  # still trusted: the real peer
        assert "SIZE 5000" in client.cmd("EHLO proxy.test").lines
        client.close()
