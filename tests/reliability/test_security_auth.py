"""Security checks around AUTH against the real daemon: tarpit, relay rights, no secret kept.

One daemon (module fixture) with STARTTLS, ``enable_authentication``, one user and three
Listens: no tarpit, default tarpit, and one whose ``relay_hosts`` covers 127.0.0.0/8. The fixture
drives all traffic, stops the daemon cleanly (every buffer written) and hands the
tests what happened:

1. Brute force: on a Listen with ``auth_failure_delay = 0`` the connection is cut with
   ``421 4.7.0`` after 5 failures; on one with the default 1 s every failure is
   tarpitted base * 2^(n-1) seconds (2 attempts measured in CI, 5 with
   ECELERITY_SOAK=1: 1+2+4+8+8 s). A reconnecting attacker does not start a fresh
   count: failures are kept per client IP (smtp/auth.py PeerFailures).
2. Relay matrix: unauthenticated / failed-AUTH / authenticated sessions and a
   relay_hosts peer, each towards a foreign and a local domain; only the authenticated
   session and the relay_hosts peer may relay; the spool holds exactly the accepted.
3. No secret at rest: neither the good nor the wrong passwords, nor their base64 forms
   (PLAIN and LOGIN), appear in any file under the daemon's var/ (logs with every
   debug flag on, paniclog, spool) or its stderr.
4. Privilege drop: started as root with ``Security { user = "nobody" group = "nogroup" }``
   the daemon must run as nobody after binding (daemon/privileges.py), and still serve SMTP.
"""
from __future__ import annotations

import base64
import os
import smtplib
import ssl
import threading
import time
from pathlib import Path

import pytest

from ecelerity.smtp.auth_backends import hash_password
from tests.helpers.certs import make_pki
from tests.helpers.daemon import free_port, start_daemon
from tests.reliability.conftest import scale
from tests.reliability.probes import spool_state

USER, PASSWORD = "alice", "Corr3ct-Horse-Battery-7f3a9"
WRONG = [f"Wr0ng-Guess-{n}-c41d" for n in range(6)]
BASE_DELAY = 1  # seconds: the option takes whole seconds
TARPIT_ATTEMPTS = scale(2, 5)


def conf(pki, plain: int, tarpit: int, relay: int) -> str:
    return (f'Suspend_Delivery = true\nrelay_domains = ( "local.test" )\n'
            f'auth_users = [ {USER} = "{hash_password(PASSWORD, iterations=1000)}" ]\n'
            'ec_logger "ec_logger" { mainlog = "var/log/mainlog.ec" rejectlog = "var/log/rejectlog.ec"\n'
            '  acctlog = "var/log/acctlog.ec" paniclog = "var/log/paniclog.ec" heartbeat = 0 }\n'
            "Debug_Flags { DEBUG = ( ALL ) INFO = ( ALL ) }\n"
            f'ESMTP_Listener {{\n  tls_certificate = "{pki.server_cert}"\n  tls_key = "{pki.server_key}"\n'
            "  enable_authentication = true\n"
            f'  Listen "127.0.0.1:{plain}" {{ auth_failure_delay = 0 }}\n'
            f'  Listen "127.0.0.1:{tarpit}" {{ auth_failure_delay = {BASE_DELAY} }}\n'
            f'  Listen "127.0.0.1:{relay}" {{ relay_hosts = ( "127.0.0.0/8" ) }}\n}}\n')


def tls_client(port: int, pki) -> smtplib.SMTP:
    client = smtplib.SMTP("127.0.0.1", port, timeout=30)
    client.ehlo("c.test")
    context = ssl.create_default_context(cafile=str(pki.ca_cert))
    context.check_hostname = False
    client.starttls(context=context)
    client.ehlo("c.test")
    return client


def plain_token(user: str, password: str) -> str:
    return base64.b64encode(f"\0{user}\0{password}".encode()).decode()


def brute_force(port: int, pki, limit: int = len(WRONG)) -> list[tuple[int, float]]:
    """(code, seconds) of each AUTH PLAIN attempt with a wrong password on one connection."""
    attempts = []
    client = tls_client(port, pki)
    try:
        for wrong in WRONG[:limit]:
            started = time.monotonic()
            try:
                code = client.docmd("AUTH", f"PLAIN {plain_token(USER, wrong)}")[0]
            except smtplib.SMTPServerDisconnected:
                break
            attempts.append((code, time.monotonic() - started))
            if code == 421:
                break
    finally:
        client.close()
    return attempts


def relay_attempt(port: int, pki, *, auth: str | None, rcpt: str) -> int:
    with (tls_client(port, pki) if auth is not None else smtplib.SMTP("127.0.0.1", port, timeout=30)) as client:
        if auth is None:
            client.ehlo("c.test")
        elif auth == "good":
            assert client.docmd("AUTH", f"PLAIN {plain_token(USER, PASSWORD)}")[0] == 235
        else:  # a failed AUTH LOGIN exchange
            assert client.docmd("AUTH", "LOGIN")[0] == 334
            assert client.docmd(base64.b64encode(USER.encode()).decode())[0] == 334
            assert client.docmd(base64.b64encode(WRONG[0].encode()).decode())[0] == 535
        assert client.mail("s@b.test")[0] == 250
        code = client.rcpt(rcpt)[0]
        if code == 250:
            assert client.data(b"From: s@b.test\r\nSubject: relay\r\n\r\nrelay\r\n")[0] == 250
        return code


MATRIX = [("unauthenticated", "plain", None), ("failed AUTH", "plain", "bad"),
          ("authenticated", "plain", "good"), ("relay_hosts peer", "relay", None)]
MAY_RELAY = {"authenticated", "relay_hosts peer"}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("auth")
    pki = make_pki(tmp_path / "pki")
    ports = {"plain": free_port(), "tarpit": free_port(), "relay": free_port()}
    cwd = tmp_path / "daemon"
    result = {"cwd": cwd}

    def tarpit() -> None:  # in parallel with the rest: it is mostly sleeping
        result["tarpit"] = brute_force(ports["tarpit"], pki, TARPIT_ATTEMPTS)
        result["second_connection"] = brute_force(ports["tarpit"], pki, 1)

    with start_daemon(conf(pki, ports["plain"], ports["tarpit"], ports["relay"]), cwd) as daemon:
        thread = threading.Thread(target=tarpit, daemon=True)
        thread.start()
        result["brute"] = brute_force(ports["plain"], pki)
        result["matrix"] = {(who, target): relay_attempt(ports[listen], pki, auth=auth, rcpt=f"u@{target}")
                            for who, listen, auth in MATRIX for target in ("elsewhere.test", "local.test")}
        thread.join(60)
        assert daemon.stop() == 0, daemon.diagnostics()
    result["stored"] = sorted(m["rcpt"] for m in spool_state(cwd / "var" / "spool")["messages"])
    return result


def test_auth_brute_force_is_tarpitted_and_cut(world, figures):
    attempts, tarpit = world["brute"], world["tarpit"]
    figures("auth_brute_force", cut_after=len(attempts), codes=[c for c, _ in attempts],
            tarpit_delays_seconds=[round(s, 2) for _, s in tarpit], base_delay=BASE_DELAY)
    assert [c for c, _ in attempts] == [535, 535, 535, 535, 421], attempts
    assert [c for c, _ in tarpit] == [535, 535, 535, 535, 421][:TARPIT_ATTEMPTS], tarpit
    for n, (_, seconds) in enumerate(tarpit, start=1):
        assert seconds >= 0.9 * min(8, BASE_DELAY * 2 ** (n - 1)), (n, seconds)


def test_auth_failures_are_counted_per_client_across_connections(world):
    [(code, seconds)] = world["second_connection"]
    assert code == 421 or seconds >= 0.9 * BASE_DELAY * 2 ** TARPIT_ATTEMPTS, (code, seconds)


def test_relay_matrix_by_auth_state_and_relay_hosts(world, figures):
    matrix = world["matrix"]
    figures("relay_auth_matrix", **{f"{who} -> {target}": code for (who, target), code in matrix.items()})
    for (who, target), code in matrix.items():
        allowed = target == "local.test" or who in MAY_RELAY
        assert (code == 250) == allowed, (who, target, code)
        assert allowed or 500 <= code < 600, (who, target, code)
    expected = sorted(f"u@{target}" for (who, target), code in matrix.items() if code == 250)
    assert world["stored"] == expected


def test_no_password_in_logs_spool_or_paniclog(world, figures):
    secrets = [PASSWORD, *WRONG, plain_token(USER, PASSWORD), base64.b64encode(PASSWORD.encode()).decode(),
               *(plain_token(USER, w) for w in WRONG), *(base64.b64encode(w.encode()).decode() for w in WRONG)]
    cwd: Path = world["cwd"]
    files = [p for p in (cwd / "var").rglob("*") if p.is_file()] + [cwd / "daemon.stderr"]
    logged = [p for p in files if p.name.startswith(("mainlog", "acctlog", "paniclog", "rejectlog"))]
    assert any(USER in p.read_text(errors="replace") for p in logged), "AUTH attempts left no log record"
    found = [(str(p.relative_to(cwd)), s) for p in files for s in secrets
             if s.encode() in p.read_bytes()]
    figures("secrets_at_rest", files_scanned=len(files), secrets_searched=len(secrets), found=len(found))
    assert not found, found


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to test dropping privileges")
def test_privileges_dropped_after_binding_when_started_as_root(tmp_path, figures):
    port = free_port()
    config = ('Security { user = "nobody" group = "nogroup" }\nSuspend_Delivery = true\n'
              f'ESMTP_Listener {{ Listen "127.0.0.1:{port}" {{ }} }}\n')
    with start_daemon(config, tmp_path / "daemon") as daemon:
        status = Path(f"/proc/{daemon.pid}/status").read_text()
        uids = next(line.split()[1:] for line in status.splitlines() if line.startswith("Uid:"))
        gids = next(line.split()[1:] for line in status.splitlines() if line.startswith("Gid:"))
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            assert client.ehlo("c.test")[0] == 250
    figures("privilege_drop", uids=uids, gids=gids)
    assert set(uids) == {"65534"} and set(gids) == {"65534"}, (uids, gids)
