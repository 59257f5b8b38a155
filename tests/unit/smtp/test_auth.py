"""ecelerity/smtp/auth.py and auth_backends.py: hashes, CRAM-MD5 keys, AUTH over real sockets."""
from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import smtplib
import ssl
import time

import gevent
import pytest
from hypothesis import given, settings as hsettings, strategies as st

from ecelerity.policy.phases import DONE, HookRegistry
from ecelerity.smtp import auth, auth_backends, tls  # noqa: F401 - tls registers STARTTLS
from ecelerity.smtp.settings import SessionSettings
from tests.helpers.certs import make_pki
from tests.helpers.inproc_smtp import SessionServer
from tests.scenarios.smtp_harness import RawClient

PASSWORD = "correct horse battery"  # smtplib sends ASCII only


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("auth"))


@pytest.fixture(scope="module")
def users():
    cram = f"{{CRAM-MD5}}{auth_backends.cram_md5_key(PASSWORD)}"
    return {"alice": auth_backends.hash_password(PASSWORD, iterations=1000) + " " + cram,
            "bob": auth_backends.hash_password("bobs-pass", iterations=1000)}


def auth_settings(pki, users, **extra):
    def make(peer):
        settings = SessionSettings(hostname="mx.test")
        settings.tls_certificate, settings.tls_key = str(pki.server_cert), str(pki.server_key)
        settings.enable_authentication = True
        settings.auth_users = users
        settings.auth_failure_delay = 0.05
        for name, value in extra.items():
            setattr(settings, name, value)
        return settings
    return make


def tls_client(port, pki) -> smtplib.SMTP:
    client = smtplib.SMTP("127.0.0.1", port, timeout=10)
    client.starttls(context=ssl.create_default_context(cafile=str(pki.ca_cert)))
    client.ehlo("client.test")
    return client


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# -- hashes -----------------------------------------------------------------------------------
def test_pbkdf2_round_trip_and_salting():
    first = auth_backends.hash_password("pw", iterations=1000)
    second = auth_backends.hash_password("pw", iterations=1000)
    assert first != second and first.startswith("{PBKDF2-SHA256}1000$")
    assert auth_backends.check_password(first, "pw")
    assert not auth_backends.check_password(first, "pW")
    assert not auth_backends.check_password("{PBKDF2-SHA256}garbage", "pw")
    assert not auth_backends.check_password("plaintext-is-not-a-scheme", "plaintext-is-not-a-scheme")


def test_ssha_entries_written_by_other_tools():
    salt = os.urandom(8)
    ssha256 = "{SSHA256}" + b64(hashlib.sha256(b"pw" + salt).digest() + salt)
    ssha512 = "{SSHA512}" + b64(hashlib.sha512(b"pw" + salt).digest() + salt)
    assert auth_backends.check_password(ssha256, "pw") and auth_backends.check_password(ssha512, "pw")
    assert not auth_backends.check_password(ssha256, "px")


def test_resumable_md5_matches_hashlib():
    for data in (b"", b"abc", b"x" * 55, b"x" * 56, b"y" * 64, os.urandom(300)):
        assert auth_backends.md5_resume(auth_backends.MD5_IV, data, 0) == hashlib.md5(data).digest()


@hsettings(max_examples=150, deadline=None)
@given(password=st.text(min_size=1, max_size=90), challenge=st.binary(max_size=120))
def test_cram_md5_key_answers_like_hmac_md5_of_the_password(password, challenge):
    key = auth_backends.cram_md5_key(password)
    assert len(key) == 64
    expected = hmac.new(password.encode(), challenge, hashlib.md5).hexdigest()
    assert auth_backends.cram_md5_digest(key, challenge) == expected
    assert auth_backends.check_password("{CRAM-MD5}" + key, password)


def test_hash_cli_prints_a_usable_entry(capsys, monkeypatch):
    import io
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret\n"))
    assert auth_backends.main(["--iterations", "1000", "--cram-md5"]) == 0
    entry = capsys.readouterr().out.strip()
    assert "s3cret" not in entry
    assert auth_backends.check_password(entry, "s3cret")
    assert auth_backends.split_entry(entry)["CRAM-MD5"] == auth_backends.cram_md5_key("s3cret")


# -- AUTH on the wire -------------------------------------------------------------------------
@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN", "CRAM-MD5"])
def test_smtplib_login_with_each_mechanism_then_relay(pki, users, tmp_path, mechanism, caplog):
    caplog.set_level(logging.DEBUG)
    with SessionServer(tmp_path, auth_settings(pki, users)) as srv:
        client = tls_client(srv.port, pki)
        assert set(client.esmtp_features["auth"].split()) == {"PLAIN", "LOGIN", "CRAM-MD5"}
        client.user, client.password = "alice", PASSWORD
        method = {"PLAIN": client.auth_plain, "LOGIN": client.auth_login,
                  "CRAM-MD5": client.auth_cram_md5}[mechanism]
        assert client.auth(mechanism, method) == (235, b"2.7.0 Authentication successful")
        client.sendmail("alice@example.test", ["someone@elsewhere.test"], b"From: a@b.test\r\n\r\nhi\r\n")
        client.quit()
    [(env, _data, rcpts)] = srv.stored()
    assert rcpts == ["someone@elsewhere.test"]
    assert env["auth_user"] == "alice" and env["protocol"] == "esmtpsa"
    assert env["conn_context"]["auth_name"] == mechanism
    assert PASSWORD not in caplog.text and PASSWORD not in repr(env)


def test_auth_needs_tls_by_default_and_not_when_told(pki, users, tmp_path):
    with SessionServer(tmp_path, auth_settings(pki, users)) as srv:
        client = RawClient(srv.port)
        client.read_reply()
        assert not any(line.startswith("AUTH") for line in client.cmd("EHLO c.test").lines)
        reply = client.cmd("AUTH PLAIN " + b64(b"\0alice\0" + PASSWORD.encode()))
        assert (reply.code, reply.lines[0]) == (538, "5.7.11 Encryption required for requested authentication mechanism")
        client.close()
    with SessionServer(tmp_path / "plain", auth_settings(pki, users, auth_require_tls=False)) as srv:
        with smtplib.SMTP("127.0.0.1", srv.port, timeout=10) as client:
            client.ehlo()
            assert client.has_extn("auth")
            assert client.login("bob", "bobs-pass")[0] == 235


def test_auth_disabled_is_not_offered(pki, users, tmp_path):
    with SessionServer(tmp_path, auth_settings(pki, users, enable_authentication=False)) as srv:
        client = tls_client(srv.port, pki)
        assert not client.has_extn("auth")
        assert client.docmd("AUTH", "PLAIN " + b64(b"\0bob\0bobs-pass"))[0] == 502
        client.close()


def test_wrong_password_is_535_tarpitted_and_counted_then_421(pki, users, tmp_path):
    before = auth.STATS["failures"]
    with SessionServer(tmp_path, auth_settings(pki, users, auth_failure_delay=0.1)) as srv:
        client = tls_client(srv.port, pki)
        delays = []
        for attempt in range(auth.MAX_FAILURES - 1):
            start = time.monotonic()
            code, text = client.docmd("AUTH", "PLAIN " + b64(b"\0alice\0wrong" + str(attempt).encode()))
            delays.append(time.monotonic() - start)
            assert (code, text) == (535, b"5.7.8 Authentication credentials invalid")
        assert delays[0] >= 0.1 and delays[-1] >= 0.1 * 2 ** (len(delays) - 1)
        code, _ = client.docmd("AUTH", "PLAIN " + b64(b"\0nobody\0x"))
        assert code == 421
        with pytest.raises(smtplib.SMTPServerDisconnected):
            client.noop()
    assert auth.STATS["failures"] - before == auth.MAX_FAILURES
    assert srv.sessions[0].vctx.conn["auth_status"] == "fail"


def test_protocol_errors(pki, users, tmp_path):
    with SessionServer(tmp_path, auth_settings(pki, users)) as srv:
        client = tls_client(srv.port, pki)
        assert client.docmd("AUTH", "PLAIN not*base64!")[:1] == (501,)
        assert client.docmd("AUTH", "PLAIN not*base64!")[1].startswith(b"5.5.2")
        assert client.docmd("AUTH", "GSSAPI")[0] == 504
        assert client.docmd("AUTH")[0] == 501
        assert client.docmd("AUTH", "LOGIN")[0] == 334
        assert client.docmd("*") == (501, b"5.0.0 Authentication cancelled")
        assert client.docmd("AUTH", "CRAM-MD5 " + b64(b"x"))[0] == 501  # no initial response
        assert client.docmd("AUTH", "PLAIN")[:2] == (334, b"")
        assert client.docmd(b64(b"\0bob\0bobs-pass"))[0] == 235
        assert client.docmd("AUTH", "PLAIN " + b64(b"\0bob\0bobs-pass")) == \
            (503, b"5.5.1 Error: already authenticated")
        client.close()
    with SessionServer(tmp_path / "2", auth_settings(pki, users)) as srv:
        client = tls_client(srv.port, pki)
        client.mail("a@example.test")
        assert client.docmd("AUTH", "PLAIN " + b64(b"\0bob\0bobs-pass"))[0] == 503
        client.rset()
        proxy = b64(b"alice\0bob\0bobs-pass")  # authorize as someone else: refused
        assert client.docmd("AUTH", "PLAIN " + proxy)[0] == 535
        client.close()


def test_unauthenticated_client_cannot_relay(pki, users, tmp_path):
    with SessionServer(tmp_path, auth_settings(pki, users)) as srv:
        client = tls_client(srv.port, pki)
        client.mail("a@example.test")
        assert client.rcpt("b@elsewhere.test") == (550, b"5.7.1 relaying denied")
        client.close()


def test_cram_md5_is_only_offered_when_a_user_has_a_key(pki, tmp_path):
    only_pbkdf2 = {"bob": auth_backends.hash_password("bobs-pass", iterations=1000)}
    with SessionServer(tmp_path, auth_settings(pki, only_pbkdf2)) as srv:
        client = tls_client(srv.port, pki)
        assert client.esmtp_features["auth"].split() == ["PLAIN", "LOGIN"]
        assert client.login("bob", "bobs-pass")[0] == 235
        client.close()


def test_auth_phase_hook_can_refuse_a_valid_login(pki, users, tmp_path):
    hooks = HookRegistry()
    seen = []

    def only_alice(vctx, user):
        seen.append((user, vctx.conn["auth_status"], vctx.conn["auth_name"]))
        if user != "alice":
            vctx.set_code(535, "5.7.8 not you")
            return DONE
        return None

    hooks.register("auth", only_alice)
    with SessionServer(tmp_path, auth_settings(pki, users), hooks=hooks) as srv:
        client = tls_client(srv.port, pki)
        assert client.docmd("AUTH", "PLAIN " + b64(b"\0bob\0bobs-pass")) == (535, b"5.7.8 not you")
        assert client.docmd("AUTH", "PLAIN " + b64(b"\0alice\0" + PASSWORD.encode()))[0] == 235
        client.close()
    assert seen == [("bob", "pass", "PLAIN"), ("alice", "pass", "PLAIN")]


def test_registered_backend_and_always_deny(pki, tmp_path):
    class Directory:
        def check_password(self, user, password, settings):
            return (password == "dir-pass") if user == "carol" else None

    backend = Directory()
    auth.register_backend(backend)
    try:
        with SessionServer(tmp_path, auth_settings(pki, {})) as srv:
            client = tls_client(srv.port, pki)
            assert client.login("carol", "dir-pass")[0] == 235
            client.close()
        with SessionServer(tmp_path / "deny", auth_settings(pki, {}, always_deny=True)) as srv:
            client = tls_client(srv.port, pki)
            assert client.docmd("AUTH", "PLAIN " + b64(b"\0carol\0dir-pass"))[0] == 535
            client.close()
    finally:
        auth.unregister_backend(backend)


# -- failures per peer, across connections ------------------------------------------------------
class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_peer_failures_count_expire_and_stay_bounded():
    clock = Clock()
    table = auth.PeerFailures(capacity=3, window=60, clock=clock)
    assert [table.record("a") for _ in range(3)] == [1, 2, 3] and table.count("b") == 0
    clock.now += 59
    assert table.record("a") == 4  # the window runs from the last failure
    clock.now += 59.5
    assert table.count("a") == 4
    clock.now += 0.5
    assert table.count("a") == 0 and len(table) == 0
    for key in ("a", "b", "c"):
        table.record(key)
    table.record("a")  # a is now the most recent: b goes first
    table.record("d")
    assert len(table) == 3 and table.count("b") == 0 and table.count("a") == 2
    assert table.count("c") == 1 and table.count("d") == 1


def test_peer_key_groups_an_ipv6_64_and_unmaps_ipv4():
    assert auth.peer_key("192.0.2.7") == "192.0.2.7"
    assert auth.peer_key("2001:db8:1:2:aaaa::1") == auth.peer_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert auth.peer_key("2001:db8:1:3::1") != auth.peer_key("2001:db8:1:2::1")
    assert auth.peer_key("::ffff:192.0.2.7") == "192.0.2.7" and auth.peer_key("not-an-ip") == "not-an-ip"


def read_until_closed(sock) -> bytes:
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except ConnectionResetError:  # closed with our pipelined commands unread
        pass
    return received


def auth_session(service, users, peer_ip: str, wrong: int, *, delay: float = 0.02) -> tuple[list[int], float]:
    """One connection, over a socketpair, making ``wrong`` AUTH PLAIN attempts with bad
    passwords (pipelined); returns the reply codes after EHLO and the seconds it took."""
    from gevent import socket as gsocket

    from ecelerity.smtp.session import Session

    settings = SessionSettings(hostname="mx.test")
    settings.enable_authentication, settings.auth_require_tls = True, False
    settings.auth_users, settings.auth_failure_delay = users, delay
    server_sock, client_sock = gsocket.socketpair()
    session = Session(server_sock, (peer_ip, 4000), settings=settings, spool=None, service=service)
    worker = gevent.spawn(session.run)
    started = time.monotonic()
    script = b"EHLO c.test\r\n" + b"".join(
        b"AUTH PLAIN " + b64(b"\0alice\0wrong-%d" % n).encode() + b"\r\n" for n in range(wrong))
    client_sock.sendall(script + b"QUIT\r\n")
    with gevent.Timeout(10):
        out = read_until_closed(client_sock)
        worker.join()
    client_sock.close()
    codes = [int(line[:3]) for line in out.split(b"\r\n") if line[3:4] == b" "]
    return codes[2:], time.monotonic() - started  # after the banner and EHLO


def test_failures_are_counted_per_peer_across_connections(users):
    from ecelerity.smtp.server import SMTPService

    service, clock = SMTPService(), Clock()
    auth._peer_tables[service] = auth.PeerFailures(clock=clock)
    codes, elapsed = auth_session(service, users, "192.0.2.1", 2)
    assert codes == [535, 535, 221] and elapsed >= 0.02 + 0.04
    codes, elapsed = auth_session(service, users, "192.0.2.1", 1)  # 3rd failure of the peer
    assert codes == [535, 221] and elapsed >= 0.02 * 4, elapsed
    codes, _ = auth_session(service, users, "192.0.2.1", 3)  # 4th, then 5th: cut
    assert codes == [535, 421]
    codes, elapsed = auth_session(service, users, "192.0.2.1", 1)  # locked out: 421 at once
    assert codes == [421] and elapsed < 0.2
    assert auth_session(service, users, "192.0.2.2", 1)[0] == [535, 221]  # another peer: its own count
    assert auth_session(SMTPService(), users, "192.0.2.1", 1)[0] == [535, 221]  # another service
    clock.now += auth.PEER_WINDOW
    codes, elapsed = auth_session(service, users, "192.0.2.1", 1)  # forgotten after the window
    assert codes == [535, 221] and elapsed < 0.02 * 4


def test_no_tarpit_means_no_per_peer_accounting(users):
    from ecelerity.smtp.server import SMTPService

    service = SMTPService()
    for _ in range(2):
        assert auth_session(service, users, "192.0.2.1", 5, delay=0)[0] == [535] * 4 + [421]
    assert service not in auth._peer_tables
