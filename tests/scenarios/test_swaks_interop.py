"""Interop with swaks (Debian's swaks 20201014): STARTTLS, SMTPS, AUTH, PIPELINING, 8-bit bodies.

swaks needs libio-socket-ssl-perl / libnet-ssleay-perl for TLS and libdigest-hmac-perl
for CRAM-MD5 (Debian "Recommends" of swaks). swaks 20201014 has no CHUNKING/BDAT
support, so BDAT interop is covered by the raw-socket scenario test_smtp_bdat.py.
Every accepted message is read back from the spool and its body compared by hash.
"""
from __future__ import annotations

import hashlib
import json
import subprocess

import pytest

from tests.helpers.certs import make_pki
from tests.helpers.tools import need_tool
from tests.scenarios.smtp_harness import read_spool, smtp_listener
from tests.scenarios.test_smtp_auth import PASSWORD, USERS_ENV, entry

HOOKS = "tests.scenarios.test_smtp_auth:install_file_backend"
BODY = "Grüße aus Köln: 8-bit body\r\n.a line starting with a dot\r\nlast\r\n".encode()
MESSAGE = b"From: alice@example.test\r\nTo: x@elsewhere.test\r\nSubject: swaks\r\n\r\n" + BODY


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("swaks"))


@pytest.fixture
def listener(pki, tmp_path):
    users = tmp_path / "users.json"
    users.write_text(json.dumps({"alice": entry()}))
    conf = f'''
ESMTP_Listener {{
  tls_certificate = "{pki.server_cert}"
  tls_key = "{pki.server_key}"
  enable_authentication = true
  Listen "127.0.0.1:0" {{ }}
  Listen "127.0.0.2:0" {{ use_ssl = true }}
}}
'''
    with smtp_listener(tmp_path, conf, hooks=HOOKS, env={USERS_ENV: str(users)}) as lst:
        yield lst


def swaks(tmp_path, port: int, *args: str, host: str = "127.0.0.1", to: str = "postmaster") -> tuple[int, str]:
    data = tmp_path / "message.eml"
    data.write_bytes(MESSAGE[:-2])  # swaks always sends CRLF "." CRLF after the data
    cmd = [need_tool("swaks"), "--server", f"{host}:{port}", "--from", "alice@example.test",
           "--to", to, "--helo", "swaks.test", "--data", f"@{data}", "--timeout", "10", *args]
    out = subprocess.run(cmd, capture_output=True, timeout=60)
    return out.returncode, out.stdout.decode("utf-8", "replace") + out.stderr.decode("utf-8", "replace")


def assert_bodies(spool_dir, count: int) -> list:
    stored = read_spool(spool_dir)
    assert len(stored) == count
    for _env, data, _ in stored:
        assert hashlib.sha256(data.split(b"\r\n\r\n", 1)[1]).digest() == hashlib.sha256(BODY).digest()
    return stored


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN", "CRAM-MD5"])
def test_swaks_starttls_verified_and_auth(listener, pki, tmp_path, mechanism):
    rc, out = swaks(tmp_path, listener.port, "--tls", "--tls-verify", "--tls-ca-path", str(pki.ca_cert),
                    "--auth", mechanism, "--auth-user", "alice", "--auth-password", PASSWORD,
                    to="x@elsewhere.test")
    assert rc == 0, out
    assert "220 2.0.0 Ready to start TLS" in out and "235 2.7.0 Authentication successful" in out
    listener.proc.terminate()
    listener.proc.wait(15)
    [(env, _data, rcpts)] = assert_bodies(listener.spool_dir, 1)
    assert rcpts == ["x@elsewhere.test"] and env["auth_user"] == "alice" and env["protocol"] == "esmtpsa"


def test_swaks_wrong_password_is_refused(listener, pki, tmp_path):
    rc, out = swaks(tmp_path, listener.port, "--tls", "--auth", "PLAIN", "--auth-user", "alice",
                    "--auth-password", "not-it", to="x@elsewhere.test")
    assert rc != 0
    assert "535 5.7.8 Authentication credentials invalid" in out


def test_swaks_pipelining_esmtp_and_smtps(listener, pki, tmp_path):
    rc, out = swaks(tmp_path, listener.port, "--pipeline", "--protocol", "ESMTP")
    assert rc == 0, out
    rc, out = swaks(tmp_path, listener.listens["127.0.0.2:0"][1], "--tls-on-connect", "--tls-verify",
                    "--tls-ca-path", str(pki.ca_cert), host="127.0.0.2")
    assert rc == 0, out
    rc, out = swaks(tmp_path, listener.port, "--protocol", "SMTP")  # HELO, no extensions
    assert rc == 0, out
    listener.proc.terminate()
    listener.proc.wait(15)
    stored = assert_bodies(listener.spool_dir, 3)
    assert [env["protocol"] for env, _, _ in stored] == ["esmtp", "esmtps", "smtp"]
