"""Lua scriptlets in the validation phases of a real daemon, driven by real SMTP sessions.

Message edits are checked at a real SMTP sink the daemon delivers to (``gateway``),
and the binding a script chose by the sink seeing that binding's bind_address.
msys.dnsLookup asks a real dnsmasq (tests/helpers/dns_server.py) through
``options.server``.
"""
from __future__ import annotations

import re
import signal
import time

import pytest

from tests.helpers.daemon import free_port, start_daemon
from tests.helpers.dns_server import start_dns
from tests.helpers.sink import SmtpSink
from tests.scenarios.smtp_harness import RawClient, wait_for

POLICY = r'''
local mod = {}

function mod:validate_ehlo(str, accept, vctx)
  local probe = vctx:get(msys.core.VCTX_CONN, "ehlo_domain") or str
  if probe == "loop.example" then while true do end end
  if probe == "bomb.example" then
    local t = {} for i = 1, 1e9 do t[i] = string.rep("x", 1024) .. i end
  end
  if probe == "os.example" then return os.execute("touch /tmp/lua-escaped") end
  if probe == "io.example" then return io.open("/etc/passwd") end
  if probe == "debug.example" then return debug.getinfo(1) end
  if probe == "bytecode.example" then return load(string.dump(function() end)) end
  return msys.core.VALIDATE_CONT
end

function mod:validate_mailfrom(str, accept, vctx)
  local domain = vctx:get(msys.core.VCTX_MESS, "mailfrom_domain")
  if domain == nil or not string.find(domain, "%.test$") then return msys.core.VALIDATE_CONT end
  local addresses, err = msys.dnsLookup(domain, "A", { server = "127.0.0.1:DNS_PORT" })
  if addresses == nil then
    vctx:set_code(550, "5.1.8 sender domain " .. domain .. " does not resolve (" .. err .. ")")
    return msys.core.VALIDATE_DONE
  end
  local mx = msys.dnsLookup(domain, "MX", { server = "127.0.0.1:DNS_PORT", priority = true })
  local best = mx and (mx[1][1] .. " " .. mx[1][2]) or "no MX"
  vctx:set_code(250, "2.1.0 sender ok, " .. domain .. " is " .. table.concat(addresses, ",")
                .. ", MX " .. best)
  return msys.core.VALIDATE_DONE
end

function mod:validate_rcptto(msg, str, accept, vctx)
  if msys.pcre.match(str, "^RCPT TO:<(spam|junk)[0-9]*@", "i") then
    vctx:set_code(550, "5.7.1 recipient refused by Lua policy")
    return msys.core.VALIDATE_DONE
  end
  if string.find(str, "<boom@", 1, true) then error("deliberate failure in rcptto") end
  if string.find(str, "<spin@", 1, true) then while true do end end
  return msys.core.VALIDATE_CONT
end

msys.registerControl("lua echo", function(cc)
  print("argc " .. cc.argc)
  return table.concat(cc.argv, "|")
end)

msys.registerModule("policy", mod)
'''

EDITS = r'''
local mod = {}
function mod:validate_data(msg, accept, vctx)
  local subject = msg:header("Subject")[1] or "(none)"
  msg:header("X-Lua-Checked", "subject was " .. subject)
  msg:header("X-Remove-Me", "")
  if msg:body_match("SECRET-[0-9]+") then msg:body_replace("SECRET-[0-9]+", "[redacted]") end
  vctx:set(msys.core.VCTX_MESS, "lua_text", msg:text())
  return msys.core.VALIDATE_CONT
end
function mod:validate_data_spool_each_rcpt(msg, accept, vctx)
  if msg:rcptto() == "alias@example.com" then msg:rcptto("real@example.com") end
  return msys.core.VALIDATE_CONT
end
function mod:validate_set_binding(msg)
  msg:binding("lua_b")
  return msys.core.VALIDATE_CONT
end
msys.registerModule("edits", mod)
'''

CONF = """
relay_domains = ( "example.com" )
ESMTP_Listener {{ Listen "127.0.0.1:{port}" {{ }} }}
scriptlet "scriptlet" {{
  instruction_budget = 2000000
  memory_limit = 64M
  script "{name}" {{ source = "{name}" }}
}}
"""


def _daemon(tmp_path, name: str, text: str, *, extra: str = ""):
    (tmp_path / f"{name}.lua").write_text(text)
    port = free_port()
    d = start_daemon(CONF.format(port=port, name=name) + extra, tmp_path)
    d.port = port
    d.wait_for_paniclog("ecelerity: started")  # the control channel answers before SMTP listens
    return d


@pytest.fixture(scope="module")
def dns():
    with start_dns(mx=[("good.test", "mx1.good.test", 10), ("good.test", "mx0.good.test", 5)],
                   hosts={"good.test": ["127.0.0.9"], "mx1.good.test": ["127.0.0.10"]}) as server:
        yield server


@pytest.fixture(scope="module")
def daemon(tmp_path_factory, dns):
    policy = POLICY.replace("DNS_PORT", str(dns.port))
    with _daemon(tmp_path_factory.mktemp("lua"), "policy", policy) as d:
        yield d


def _session(port: int, ehlo: str = "client.example") -> RawClient:
    client = RawClient(port)
    assert client.read_reply().code == 220
    assert client.cmd(f"EHLO {ehlo}").code == 250
    return client


def _served(port: int) -> None:
    """A whole message goes through: the daemon is still serving."""
    client = _session(port)
    assert client.cmd("MAIL FROM:<a@client.example>").code == 250
    assert client.cmd("RCPT TO:<ok@example.com>").code == 250
    assert client.cmd("DATA").code == 354
    assert client.cmd("Subject: x\r\nFrom: a@client.example\r\n\r\nhi\r\n.").code == 250
    client.cmd("QUIT")
    client.close()


def test_validate_rcptto_rejects_by_regex_with_550_and_enhanced_code(daemon):
    client = _session(daemon.port)
    assert client.cmd("MAIL FROM:<a@client.example>").code == 250
    reply = client.cmd("RCPT TO:<Spam42@example.com>")
    assert (reply.code, reply.text) == (550, "5.7.1 recipient refused by Lua policy")
    reply = client.cmd("RCPT TO:<ham@example.com>")
    assert (reply.code, reply.text) == (250, "2.0.0 RCPT TO accepted")
    client.close()


def test_script_error_tempfails_logs_traceback_and_next_session_is_served(daemon):
    client = _session(daemon.port)
    assert client.cmd("MAIL FROM:<a@client.example>").code == 250
    reply = client.cmd("RCPT TO:<boom@example.com>")
    assert (reply.code, reply.text) == (451, "4.3.0 [internal] policy script error")
    assert client.cmd("RCPT TO:<ok@example.com>").code == 250  # same session goes on
    client.close()
    log = daemon.wait_for_paniclog("deliberate failure in rcptto")
    assert re.search(r"scriptlet: policy:validate_rcptto: policy\.lua:\d+: deliberate failure", log)
    assert "stack traceback:" in log
    _served(daemon.port)


def test_infinite_loop_is_stopped_by_the_budget_and_the_daemon_keeps_serving(daemon):
    started = time.monotonic()
    client = _session(daemon.port)
    assert client.cmd("MAIL FROM:<a@client.example>").code == 250
    reply = client.cmd("RCPT TO:<spin@example.com>")
    assert reply.code == 451 and reply.text.startswith("4.3.0")
    assert time.monotonic() - started < 8
    client.close()
    daemon.wait_for_paniclog("instruction budget exceeded")
    _served(daemon.port)


@pytest.mark.parametrize("ehlo, logged", [
    ("loop.example", "instruction budget exceeded"),
    ("bomb.example", "memory limit exceeded"),
    ("os.example", "attempt to call"),
    ("io.example", "attempt to index"),
    ("debug.example", "attempt to index"),
    ("bytecode.example", "attempt to call"),
])
def test_sandbox_escapes_in_a_hook_tempfail_and_the_daemon_keeps_serving(daemon, ehlo, logged):
    client = RawClient(daemon.port)
    assert client.read_reply().code == 220
    reply = client.cmd(f"EHLO {ehlo}")
    assert (reply.code, reply.text) == (451, "4.3.0 [internal] policy script error")
    client.close()
    log = daemon.wait_for_paniclog(re.compile(rf"validate_ehlo: .*{re.escape(logged)}"))
    assert "Traceback (most recent call last)" not in log
    _served(daemon.port)


def test_dns_lookup_in_validate_mailfrom_asks_the_real_dns_server(daemon):
    client = _session(daemon.port)
    reply = client.cmd("MAIL FROM:<someone@good.test>")
    assert (reply.code, reply.text) == (250, "2.1.0 sender ok, good.test is 127.0.0.9, "
                                             "MX 5 mx0.good.test")
    assert client.cmd("RSET").code == 250
    reply = client.cmd("MAIL FROM:<someone@missing.test>")
    assert reply.code == 550
    assert reply.text.startswith("5.1.8 sender domain missing.test does not resolve")
    assert "NXDOMAIN" in reply.text
    client.close()


def test_register_control_adds_a_console_command(daemon):
    reply = daemon.command("lua echo one two")
    assert reply.ok, reply
    assert reply.body == ["argc 3", "lua echo|one|two"]
    status = daemon.command("scriptlet status")
    assert any(line.startswith("module policy: validate_ehlo, validate_mailfrom, validate_rcptto")
               for line in status.body), status.body


def test_data_phase_edits_reach_the_sink_through_the_binding_lua_chose(tmp_path):
    with SmtpSink("127.0.0.1") as sink:
        conf = f'gateway = "127.0.0.1:{sink.port}"\nbinding "lua_b" {{ bind_address = "127.0.0.3" }}\n'
        with _daemon(tmp_path, "edits", EDITS, extra=conf) as d:
            client = _session(d.port)
            assert client.cmd("MAIL FROM:<a@client.example>").code == 250
            assert client.cmd("RCPT TO:<alias@example.com>").code == 250
            assert client.cmd("DATA").code == 354
            reply = client.cmd("Subject: hello there\r\nFrom: a@client.example\r\n"
                               "X-Remove-Me: 1\r\n\r\nthe code is SECRET-1234, keep it\r\n.")
            assert reply.code == 250, reply
            client.cmd("QUIT")
            assert wait_for(lambda: sink.messages, timeout=15), d.diagnostics()
    [sunk] = sink.messages
    head, _, body = sunk.body.partition(b"\r\n\r\n")
    assert b"\r\nX-Lua-Checked: subject was hello there\r\n" in head + b"\r\n"
    assert b"X-Remove-Me" not in head
    assert head.startswith(b"Received: ")  # the trace header survived the rewrite
    assert body == b"the code is [redacted], keep it\r\n"
    assert sunk.rcpts == ["real@example.com"]
    assert sunk.peer[0] == "127.0.0.3"  # delivered from binding lua_b's bind_address


RELOAD_V1 = r'''
local mod = {}
function mod:validate_rcptto(msg, str, accept, vctx)
  if string.find(str, "<v1block@", 1, true) then
    vctx:set_code(550, "5.7.1 refused by version 1") return msys.core.VALIDATE_DONE
  end
end
msys.registerModule("reloading", mod)
'''


def test_sighup_reload_changes_behaviour_without_dropping_a_session(tmp_path):
    with SmtpSink("127.0.0.1") as sink, \
            _daemon(tmp_path, "reloading", RELOAD_V1,
                    extra=f'gateway = "127.0.0.1:{sink.port}"\n') as d:
        client = _session(d.port)
        assert client.cmd("MAIL FROM:<a@client.example>").code == 250
        assert client.cmd("RCPT TO:<v2block@example.com>").code == 250
        assert client.cmd("RCPT TO:<v1block@example.com>").code == 550
        (tmp_path / "reloading.lua").write_text(RELOAD_V1.replace("v1block", "v2block")
                                                .replace("version 1", "version 2"))
        d.signal(signal.SIGHUP)
        d.wait_for_paniclog("reload ok")
        reply = client.cmd("RCPT TO:<v2block@example.com>")  # the same session, new script
        assert (reply.code, reply.text) == (550, "5.7.1 refused by version 2")
        assert client.cmd("RCPT TO:<v1block@example.com>").code == 250
        assert client.cmd("DATA").code == 354
        assert client.cmd("Subject: x\r\nFrom: a@client.example\r\n\r\nhi\r\n.").code == 250
        client.cmd("QUIT")
        assert wait_for(lambda: sink.messages, timeout=15), d.diagnostics()
    assert sorted(r for m in sink.messages for r in m.rcpts) == [
        "v1block@example.com", "v2block@example.com"]
