"""SMTP AUTH against the real listener process: smtplib logs in with PLAIN, LOGIN and CRAM-MD5.

Users come from ``auth_users`` in the configuration file. While the option registry
does not declare ``auth_users`` yet, the same hashed entries are served by a backend
the listener process installs through ``--hooks`` (``install_file_backend``): the
verification code is the default backend's either way.
"""
from __future__ import annotations

import hashlib
import json
import os
import smtplib
import ssl

import pytest

from ecelerity.smtp.auth_backends import ConfigUsersBackend, cram_md5_key, hash_password
from tests.helpers.certs import make_pki
from tests.scenarios.smtp_harness import read_spool, smtp_listener

PASSWORD = "Tr0ub4dor&3"
BODY = b"relayed after AUTH\r\n"
USERS_ENV = "ECELERITY_TEST_AUTH_USERS"


def install_file_backend(hooks) -> None:
    """--hooks entry point (runs inside the listener): users from the JSON file in $USERS_ENV."""
    from ecelerity.smtp import auth

    class FileUsers(ConfigUsersBackend):
        def _users(self, settings):
            with open(os.environ[USERS_ENV]) as handle:
                return json.load(handle)

    auth.register_backend(FileUsers())


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("auth"))


def entry() -> str:
    return f"{hash_password(PASSWORD, iterations=2000)} {{CRAM-MD5}}{cram_md5_key(PASSWORD)}"


def conf(pki, extra: str = "") -> str:
    return f'''
ESMTP_Listener {{
  tls_certificate = "{pki.server_cert}"
  tls_key = "{pki.server_key}"
  enable_authentication = true
  {extra}
  Listen "127.0.0.1:0" {{ }}
}}
'''


def login_and_send(port: int, pki, mechanism: str) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.ehlo("client.test")
        assert not client.has_extn("auth")  # not before STARTTLS
        client.starttls(context=ssl.create_default_context(cafile=str(pki.ca_cert)))
        client.ehlo("client.test")
        assert mechanism in client.esmtp_features["auth"].split()
        client.user, client.password = "alice", PASSWORD
        method = {"PLAIN": client.auth_plain, "LOGIN": client.auth_login,
                  "CRAM-MD5": client.auth_cram_md5}[mechanism]
        assert client.auth(mechanism, method)[0] == 235
        client.sendmail("alice@example.test", [f"{mechanism.lower()}@elsewhere.test"],
                        b"From: alice@example.test\r\n\r\n" + BODY)


def check_spool(spool_dir, mechanisms) -> None:
    stored = read_spool(spool_dir)
    assert [rcpts for _, _, rcpts in stored] == [[f"{m.lower()}@elsewhere.test"] for m in mechanisms]
    for env, data, _ in stored:
        assert env["auth_user"] == "alice" and env["protocol"] == "esmtpsa"
        assert hashlib.sha256(data.split(b"\r\n\r\n", 1)[1]).digest() == hashlib.sha256(BODY).digest()
        assert PASSWORD.encode() not in data


def test_smtplib_auth_mechanisms_then_relay(pki, tmp_path):
    users = tmp_path / "users.json"
    users.write_text(json.dumps({"alice": entry()}))
    with smtp_listener(tmp_path, conf(pki), hooks="tests.scenarios.test_smtp_auth:install_file_backend",
                       env={USERS_ENV: str(users)}) as lst:
        for mechanism in ("PLAIN", "LOGIN", "CRAM-MD5"):
            login_and_send(lst.port, pki, mechanism)
        with smtplib.SMTP("127.0.0.1", lst.port, timeout=10) as client:
            client.starttls(context=ssl.create_default_context(cafile=str(pki.ca_cert)))
            with pytest.raises(smtplib.SMTPAuthenticationError) as refused:
                client.login("alice", "wrong")
            assert refused.value.smtp_code == 535
            client.mail("x@example.test")
            assert client.rcpt("y@elsewhere.test")[0] == 550  # not authenticated: no relay
    check_spool(lst.spool_dir, ["PLAIN", "LOGIN", "CRAM-MD5"])


def test_auth_users_from_the_configuration(pki, tmp_path):
    with smtp_listener(tmp_path, conf(pki, f'auth_users = [ alice = "{entry()}" ]')) as lst:
        login_and_send(lst.port, pki, "PLAIN")
    check_spool(lst.spool_dir, ["PLAIN"])
