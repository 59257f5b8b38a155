"""Security checks against the real daemon: no open relay, TLS floor, no AUTH in clear.

1. Open-relay matrix: an unauthenticated peer with no relay rights tries every address
   trick (source routes ``@a:b@c``, ``%`` hacks, ``!`` paths, quoted local parts hiding
   ``@``, IP literals, trailing dots, case games) towards a domain that is not ours; each
   must be refused (5xx) at RCPT and nothing may reach the spool. Local recipients of
   ``relay_domains`` are the control: they are accepted.
2. TLS: a client whose maximum version is TLS 1.1 (or 1.0) fails the STARTTLS handshake;
   a TLS 1.2+ client succeeds.
3. AUTH is not advertised (and is refused) before STARTTLS when authentication is enabled.
"""
from __future__ import annotations

import smtplib
import ssl

import pytest

from tests.helpers.certs import make_pki
from tests.helpers.daemon import free_port, start_daemon
from tests.reliability.probes import spool_state

FOREIGN = [
    "victim@elsewhere.test", "<@local.test:victim@elsewhere.test>", "@local.test:victim@elsewhere.test",
    "victim%elsewhere.test@local.test", "victim%elsewhere.test", "elsewhere.test!victim@local.test",
    "\"victim@elsewhere.test\"@local.test", "\"victim%elsewhere.test\"@local.test",
    "victim@[127.0.0.9]", "victim@elsewhere.test.", "victim@ELSEWHERE.TEST",
    "victim@local.test@elsewhere.test", "victim@elsewhere.test,local.test",
    "<victim@elsewhere.test> <x@local.test>", "victim@local.test.elsewhere.test",
    "victim@sub.local.test",
]
LOCAL = ["user@local.test", "USER@Local.Test"]


def conf(port: int, pki=None) -> str:
    tls = (f'tls_certificate = "{pki.server_cert}"\ntls_key = "{pki.server_key}"\n'
           'enable_authentication = true\n') if pki else ""
    return (f'Suspend_Delivery = true\nrelay_domains = ( "local.test" )\n'
            f'ESMTP_Listener {{\n{tls}Listen "127.0.0.1:{port}" {{ }}\n}}\n')


def rcpt_raw(client: smtplib.SMTP, address: str) -> int:
    return client.docmd(f"RCPT TO:{address if address.startswith('<') else f'<{address}>'}")[0]


def routed_domain(address: str) -> str:
    return address.rsplit("@", 1)[-1].lower()


def test_open_relay_matrix(tmp_path, figures):
    port = free_port()
    accepted, refused = [], []
    with start_daemon(conf(port), tmp_path / "daemon") as daemon:
        for address in FOREIGN + LOCAL:
            with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
                client.ehlo("attacker.test")
                assert client.mail("a@attacker.test")[0] == 250
                code = rcpt_raw(client, address)
                if code == 250:
                    accepted.append(address)
                    body = b"From: a@attacker.test\r\nSubject: relay\r\n\r\nrelay test\r\n"
                    client.data(body)
                else:
                    refused.append((address, code))
        assert daemon.stop() == 0, daemon.diagnostics()
    stored = [m["rcpt"] for m in spool_state(tmp_path / "daemon" / "var" / "spool")["messages"]]
    # accepting "x%elsewhere@local.test" is not relaying as long as it is routed to
    # local.test with its local part untouched (no % or ! hack is ever applied)
    relayed = [a for a in stored if routed_domain(a) != "local.test"]
    figures("open_relay", attempts=len(FOREIGN), refused=len(refused), relayed=len(relayed),
            accepted_as_local=len(accepted))
    assert not relayed, f"relayed without rights: {relayed}"
    assert all(500 <= code < 600 for _, code in refused), refused
    assert len(stored) == len(accepted), (stored, accepted)
    assert {a.lower() for a in LOCAL} <= {a.lower() for a in stored}, stored
    assert not [a for a in accepted if routed_domain(a.strip("<>")) != "local.test"], accepted


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


def test_old_tls_refused_and_no_auth_in_clear(pki, tmp_path, figures):
    port = free_port()
    outcomes = {}
    with start_daemon(conf(port, pki), tmp_path / "daemon") as daemon:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.ehlo("c.test")
            assert client.has_extn("starttls")
            assert not client.has_extn("auth"), "AUTH advertised before TLS"
            code = client.docmd("AUTH PLAIN AGFsaWNlAHNlY3JldA==")[0]
            assert 500 <= code < 600 and code != 235, code
            outcomes["auth_before_tls"] = code
        for version in (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1):
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.load_verify_locations(str(pki.ca_cert))
            context.check_hostname = False
            context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
            context.maximum_version = version
            try:
                context.set_ciphers("ALL:@SECLEVEL=0")
            except ssl.SSLError:
                pass
            with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
                client.ehlo("c.test")
                with pytest.raises((ssl.SSLError, smtplib.SMTPServerDisconnected, ConnectionError)):
                    client.starttls(context=context)
            outcomes[version.name] = "refused"
        context = ssl.create_default_context(cafile=str(pki.ca_cert))
        context.check_hostname = False
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.ehlo("c.test")
            assert client.starttls(context=context)[0] == 220
            outcomes["modern"] = client.sock.version()
            client.ehlo("c.test")
            assert client.has_extn("auth"), "AUTH not offered after STARTTLS"
        assert daemon.alive(), daemon.diagnostics()
    figures("tls", **outcomes)
    assert outcomes["modern"] in ("TLSv1.2", "TLSv1.3")
