"""Scenario: msys.registerAuth decides SMTP AUTH PLAIN and LOGIN in a real daemon.

A scriptlet registers the Lua scheme ``luaauth`` from its init; the listener names it in
``AuthPlainParameters`` / ``AuthLoginParameters``. smtplib logs in: the right password
gets 235 and may relay, a wrong one 535, and a user for whom the script answers
EC_AUTH_ERROR gets the temporary 454 4.7.0. The script sees the URI's path and query.
"""
from __future__ import annotations

import smtplib

import pytest

from tests.helpers.daemon import free_port, start_daemon

SCRIPT = r'''
local mod, auth = {}, {}
function auth:authenticate(filename, params, user, password)
  if filename ~= "/users" or params.realm ~= "test" or params.extra ~= "kept" then
    return msys.core.EC_AUTH_ERROR
  end
  if user == "broken" then return msys.core.EC_AUTH_ERROR end
  if user == "alice" and password == "s3cret pass" then return msys.core.EC_AUTH_OK end
  return msys.core.EC_AUTH_FAIL
end
function mod:init()
  msys.registerAuth("luaauth", auth)
  return true
end
msys.registerModule("luaauth", mod)
'''

CONF = """
ESMTP_Listener {{
  enable_authentication = true
  auth_require_tls = false
  auth_failure_delay = 0
  AuthPlainParameters = [ uri = "luaauth:///users?realm=test" extra = "kept" ]
  AuthLoginParameters = [ uri = "luaauth:///users?realm=test" extra = "kept" ]
  Listen "127.0.0.1:{port}" {{ }}
}}
scriptlet "scriptlet" {{ script "auth" {{ source = "auth" }} }}
"""


def login(port: int, mechanism: str, user: str, password: str) -> smtplib.SMTP:
    client = smtplib.SMTP("127.0.0.1", port, timeout=10)
    client.ehlo("client.test")
    assert mechanism in client.esmtp_features["auth"].split()
    client.user, client.password = user, password
    method = {"PLAIN": client.auth_plain, "LOGIN": client.auth_login}[mechanism]
    try:
        client.auth(mechanism, method)
    except BaseException:
        client.close()
        raise
    return client


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
def test_lua_scheme_decides_smtp_auth(tmp_path, mechanism):
    (tmp_path / "auth.lua").write_text(SCRIPT)
    port = free_port()
    with start_daemon(CONF.format(port=port), tmp_path) as daemon:
        with login(port, mechanism, "alice", "s3cret pass") as client:
            client.mail("alice@sender.test")
            assert client.rcpt("someone@elsewhere.test")[0] == 250  # authenticated: may relay
        with pytest.raises(smtplib.SMTPAuthenticationError) as refused:
            login(port, mechanism, "alice", "wrong")
        assert refused.value.smtp_code == 535
        with pytest.raises(smtplib.SMTPAuthenticationError) as undecided:
            login(port, mechanism, "broken", "whatever")
        assert (undecided.value.smtp_code, undecided.value.smtp_error[:5]) == (454, b"4.7.0")
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:  # no AUTH: no relay
            client.ehlo("client.test")
            client.mail("x@sender.test")
            assert client.rcpt("someone@elsewhere.test")[0] == 550
        assert daemon.command("pid").status == 200  # still serving


def test_reload_retires_the_old_scheme(tmp_path):
    """SIGHUP unloads the scriptlet, whose stop() retires the schemes it registered: when
    the reloaded script registers none, the old scheme never accepts a password again."""
    import signal
    (tmp_path / "auth.lua").write_text(SCRIPT)
    port = free_port()
    with start_daemon(CONF.format(port=port), tmp_path) as daemon:
        login(port, "PLAIN", "alice", "s3cret pass").close()
        (tmp_path / "auth.lua").write_text(SCRIPT.replace('msys.registerAuth("luaauth", auth)', ""))
        daemon.signal(signal.SIGHUP)
        daemon.wait_for_paniclog("reload ok")
        with pytest.raises(smtplib.SMTPAuthenticationError) as refused:
            login(port, "PLAIN", "alice", "s3cret pass")
        assert refused.value.smtp_code in (454, 535), refused.value
