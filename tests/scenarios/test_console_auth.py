"""Scenario: console authentication and authorization against a running daemon: the unix socket
is trusted, the TCP Listen requires SCRAM-SHA-256 with the password file named by
AuthDigestMD5Parameters; ec_console authenticates with --password-file or a getpass prompt.
"""
from __future__ import annotations

import os
import subprocess

import pytest

from ecelerity.control import auth
from ecelerity.control.client import AuthFailed, AuthRequired, ControlClient
from tests.helpers.daemon import console_command, daemon_env, free_port, start_daemon
from tests.scenarios.test_ec_console_against_daemon import read_until

CONFIG = """Control_Listener {{
  AuthDigestMD5Parameters = [ uri = "digest://{passwd}" ]
  Listen "var/run/control.sock" {{ }}
  Listen "127.0.0.1:{port}" {{ Enable_Authentication = true {authz} }}
}}
{extra}"""


def write_passwd(tmp_path):
    path = tmp_path / "console_passwd"
    path.write_text(auth.password_line("admin", "adm1n", ["admin"], iterations=1000) + "\n"
                    + auth.password_line("viewer", "v1ew", ["ops"], iterations=1000) + "\n")
    return path


def test_tcp_needs_credentials_unix_socket_is_trusted(tmp_path):
    port = free_port()
    passwd = write_passwd(tmp_path)
    with start_daemon(CONFIG.format(passwd=passwd, port=port, authz="", extra=""), tmp_path) as daemon:
        assert daemon.command("pid").body == [str(daemon.pid)]  # unix socket: trusted
        with pytest.raises(AuthRequired):
            ControlClient(f"127.0.0.1:{port}", timeout=5).connect()
        with pytest.raises(AuthFailed):
            ControlClient(f"admin@127.0.0.1:{port}", password="wrong", timeout=5).connect()
        with ControlClient(f"admin@127.0.0.1:{port}", password="adm1n", timeout=5) as client:
            assert client.command("pid").body == [str(daemon.pid)]
            ident = client.command("authz id")
            assert ident.body[0].startswith("User: admin (authenticated, from 127.0.0.1:")
        daemon.wait_for_paniclog("authentication failed for user 'admin'")

        secret = tmp_path / "pw"
        secret.write_text("adm1n\n")
        ok = subprocess.run(console_command("--password-file", str(secret), f"admin@127.0.0.1:{port}", "pid"),
                            capture_output=True, text=True, env=daemon_env(), timeout=20)
        assert (ok.returncode, ok.stdout) == (0, f"{daemon.pid}\n")
        secret.write_text("bad\n")
        bad = subprocess.run(console_command("--password-file", str(secret), f"admin@127.0.0.1:{port}", "pid"),
                             capture_output=True, text=True, env=daemon_env(), timeout=20)
        assert bad.returncode == 2
        assert bad.stderr == (f"ec_console: authentication to admin@127.0.0.1:{port} failed: "
                              "535 authentication failed\n")
        anonymous = subprocess.run(console_command(f"127.0.0.1:{port}", "pid"), capture_output=True,
                                   text=True, env=daemon_env(), timeout=20)
        assert anonymous.returncode == 2 and "requires authentication" in anonymous.stderr


def test_ec_console_prompts_for_the_password_on_a_tty(tmp_path):
    port = free_port()
    passwd = write_passwd(tmp_path)
    with start_daemon(CONFIG.format(passwd=passwd, port=port, authz="", extra=""), tmp_path):
        master, slave = os.openpty()
        proc = subprocess.Popen(console_command(f"viewer@127.0.0.1:{port}", "authz id"), stdin=slave,
                                stdout=slave, stderr=slave, env=daemon_env({"TERM": "dumb"}),
                                close_fds=True, start_new_session=True)
        os.close(slave)
        try:
            assert b"Password for viewer: " in read_until(master, b"Password for viewer: ")
            os.write(master, b"v1ew\n")
            seen = read_until(master, b"Roles: ops")
            assert b"v1ew" not in seen  # getpass does not echo
            assert proc.wait(10) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            os.close(master)


def test_enable_authorization_denies_what_no_role_allows(tmp_path):
    port = free_port()
    passwd = write_passwd(tmp_path)
    config = CONFIG.format(passwd=passwd, port=port, authz="Enable_Authorization = true", extra="")
    with start_daemon(config, tmp_path) as daemon:
        with ControlClient(f"admin@127.0.0.1:{port}", password="adm1n", timeout=5) as client:
            denied = client.command("pid")
            assert (denied.status, denied.text) == (403, "permission denied: user 'admin' may not run 'pid'")
            assert client.command("authz id").ok
        daemon.wait_for_paniclog("authorization denied: user 'admin' from 127.0.0.1:")
        assert daemon.command("pid").ok  # the unix Listen does not enforce authorization


ROLES = """Authorization {
  Role "admin" { allow = ( ".*" ) }
  Role "ops" { allow = ( "^summary" "^mailq" "^authz" ) }
}
"""


ACCTLOG = 'ec_logger "log" { acctlog = "var/log/acctlog.ec" }\n'


def test_authorization_roles_in_the_daemon(tmp_path):
    port = free_port()
    passwd = write_passwd(tmp_path)
    config = CONFIG.format(passwd=passwd, port=port, authz="Enable_Authorization = true",
                           extra=ROLES + ACCTLOG)
    with start_daemon(config, tmp_path / "d") as daemon:
        with ControlClient(f"viewer@127.0.0.1:{port}", password="v1ew", timeout=5) as client:
            assert client.command("mailq").ok
            assert client.command("shutdown").status == 403
            assert client.command("authz roles list").body[0] == "Role admin:"
        with ControlClient(f"admin@127.0.0.1:{port}", password="adm1n", timeout=5) as client:
            assert client.command("pid").body == [str(daemon.pid)]
        daemon.stop()
    # Momentum's acctlog: N (authentication) and Z (authorization) records, @-separated
    records = [line.split("@") for line in
               (tmp_path / "d" / "var" / "log" / "acctlog.ec").read_text().splitlines()]
    logins = [(r[1], r[4], r[5]) for r in records if r[1] == "N"]
    assert logins == [("N", "viewer", "1"), ("N", "admin", "1")]
    checks = [(r[4], r[5], r[6], r[7]) for r in records if r[1] == "Z"]
    assert ("viewer", "1", "mailq", "ops") in checks
    assert ("viewer", "0", "shutdown", "") in checks
    assert ("admin", "1", "pid", "admin") in checks
    assert all(r[2] == f"127.0.0.1:{port}" and r[3].startswith("127.0.0.1:") for r in records)
