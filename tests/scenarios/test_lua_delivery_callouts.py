"""Delivery-side Lua in a real daemon: core_log_delivery_v1 / core_log_transient_failure_v1 /
core_log_permanent_failure_v1 see a read-only msg over the spooled message (headers read
from the spool), msys.delivery.ob_get_current_message() is that msg, and the script
records what it saw in a file under ``io_wrapper_dirs`` (msys.core.io_wrapper_open).
A second module whose callout fails only costs a paniclog line: delivery goes on."""
from __future__ import annotations

from tests.helpers.daemon import free_port, start_daemon
from tests.helpers.sink import SmtpSink
from tests.scenarios.smtp_harness import RawClient, wait_for

SCRIPT = r'''
local O = msys.core
local function record(kind, msg, dc, now, note)
  local code, text = msg:code()
  local current = msys.delivery.ob_get_current_message()
  local editable = pcall(msg.header, msg, "X-Late", "no")
  local line = table.concat({kind, msg:rcptto(), msg:mailfrom(), msg:header("Subject")[1] or "-",
    tostring(code), text or "-", dc.domain, dc.enhanced, note, tostring(current == msg),
    msys.expandMacro("%{rcptto}"), type(now), tostring(editable),
    msg:context_get(O.VCTX_MESS, "tag") or "-"}, "|")
  local f = assert(O.io_wrapper_open("out/delivery.log", O.O_WRONLY + O.O_CREAT + O.O_APPEND))
  f:write(line .. "\n")
  f:close()
end
local mod = {}
function mod:validate_data_spool(msg, accept, vctx)
  vctx:set(O.VCTX_MESS, "tag", "seen-at-spool")
  return O.VALIDATE_CONT
end
function mod:core_log_delivery_v1(msg, dc, now, note) record("D", msg, dc, now, note) end
function mod:core_log_transient_failure_v1(msg, dc, now, note) record("T", msg, dc, now, note) end
function mod:core_log_permanent_failure_v1(msg, dc, now, note) record("P", msg, dc, now, note) end
msys.registerModule("recorder", mod)

local broken = {}
function broken:core_log_delivery_v1(msg) error("broken delivery callout") end
msys.registerModule("broken", broken)
'''

CONF = """
relay_domains = ( "example.com" )
gateway = "127.0.0.1:{sink}"
generate_bounces = false
retry_interval = 600
ESMTP_Listener {{ Listen "127.0.0.1:{port}" {{ }} }}
scriptlet "scriptlet" {{
  io_wrapper_dirs = ( "out" )
  script "recorder" {{ source = "recorder" }}
}}
"""


def send(port: int, rcpt: str, subject: str) -> None:
    client = RawClient(port)
    try:
        assert client.read_reply().code == 220
        assert client.cmd("EHLO client.example").code == 250
        assert client.cmd("MAIL FROM:<a@client.example>").code == 250
        assert client.cmd(f"RCPT TO:<{rcpt}>").code == 250
        assert client.cmd("DATA").code == 354
        reply = client.cmd(f"Subject: {subject}\r\nFrom: a@client.example\r\n\r\nbody\r\n.")
        assert reply.code == 250, reply
        client.cmd("QUIT")
    finally:
        client.close()


def test_delivery_callouts_see_each_outcome(tmp_path):
    (tmp_path / "recorder.lua").write_text(SCRIPT)
    (tmp_path / "out").mkdir()
    log_file = tmp_path / "out" / "delivery.log"
    port = free_port()

    def lines():
        return log_file.read_text().splitlines() if log_file.exists() else []

    replies = {"soft@example.com": "451 4.2.0 mailbox busy", "hard@example.com": "550 5.1.1 no such user"}
    with SmtpSink("127.0.0.1", rcpt_replies=replies) as sink, \
            start_daemon(CONF.format(port=port, sink=sink.port), tmp_path) as d:
        d.wait_for_paniclog("ecelerity: started")
        send(port, "ok@example.com", "first")
        send(port, "soft@example.com", "second")
        send(port, "hard@example.com", "third")
        assert wait_for(lambda: len(lines()) >= 3, timeout=20), (lines(), d.diagnostics())
        log = d.wait_for_paniclog("broken delivery callout")
        status = d.command("scriptlet status")
        assert d.alive()
    by_kind = {line.split("|")[0]: line.split("|") for line in lines()}
    assert sorted(by_kind) == ["D", "P", "T"], lines()
    assert by_kind["D"] == ["D", "ok@example.com", "a@client.example", "first", "250", "2.0.0 queued",
                            "example.com", "2.0.0", "250 2.0.0 queued", "true", "ok@example.com",
                            "number", "false", "seen-at-spool"]
    assert by_kind["T"][1:9] == ["soft@example.com", "a@client.example", "second", "451",
                                 "4.2.0 mailbox busy", "example.com", "4.2.0", "451 4.2.0 mailbox busy"]
    assert by_kind["P"][1:9] == ["hard@example.com", "a@client.example", "third", "550",
                                 "5.1.1 no such user", "example.com", "5.1.1", "550 5.1.1 no such user"]
    assert [m.rcpts for m in sink.messages] == [["ok@example.com"]]  # the broken module changed nothing
    assert "broken:core_log_delivery_v1" in log
    assert any("delivery callouts: 4 failed: 1 dropped: 0" in line for line in status.body), status
