"""msg:forward, msg:build + msg:inject and msys.audit.* in a real daemon: the new
messages go through the spool and the queue and arrive at a real SMTP sink."""
from __future__ import annotations

import email

from tests.helpers.daemon import free_port, start_daemon
from tests.helpers.sink import SmtpSink
from tests.scenarios.smtp_harness import RawClient, wait_for

POLICY = r'''
local mod = {}
function mod:validate_data_spool(msg, accept, vctx)
  if msg:rcptto() == "watched@example.com" then
    msg:forward("archive@example.com")
    local note = msys.core.ec_message_new()
    note:build({Subject = "seen " .. (msg:header("Subject")[1] or ""), From = "lua@example.com",
                To = "audit@example.com"},
               {["text/plain"] = "connections from this IP: "
                  .. msys.audit.connections(vctx:get(msys.core.VCTX_CONN, "peer_ip"))})
    note:inject("lua@example.com", "audit@example.com")
  end
  return msys.core.VALIDATE_CONT
end
msys.registerModule("injector", mod)
'''

CONF = """
relay_domains = ( "example.com" )
gateway = "127.0.0.1:{sink}"
ESMTP_Listener {{ Listen "127.0.0.1:{port}" {{ }} }}
scriptlet "scriptlet" {{ script "injector" {{ source = "injector" }} }}
"""


def test_forward_and_inject_reach_the_sink_through_spool_and_queue(tmp_path):
    (tmp_path / "injector.lua").write_text(POLICY)
    port = free_port()
    with SmtpSink("127.0.0.1") as sink, \
            start_daemon(CONF.format(port=port, sink=sink.port), tmp_path) as d:
        d.wait_for_paniclog("ecelerity: started")
        client = RawClient(port)
        assert client.read_reply().code == 220
        assert client.cmd("EHLO client.example").code == 250
        assert client.cmd("MAIL FROM:<a@client.example>").code == 250
        assert client.cmd("RCPT TO:<watched@example.com>").code == 250
        assert client.cmd("DATA").code == 354
        reply = client.cmd("Subject: quarterly\r\nFrom: a@client.example\r\n\r\nnumbers\r\n.")
        assert reply.code == 250, reply
        client.cmd("QUIT")
        client.close()
        assert wait_for(lambda: len(sink.messages) >= 3, timeout=20), d.diagnostics()
        log = d.wait_for_paniclog("injected")
    by_rcpt = {m.rcpts[0]: m for m in sink.messages}
    assert sorted(by_rcpt) == ["archive@example.com", "audit@example.com", "watched@example.com"]
    assert by_rcpt["archive@example.com"].mail_from == "a@client.example"
    assert b"numbers" in by_rcpt["archive@example.com"].body
    note = email.message_from_bytes(by_rcpt["audit@example.com"].body)
    assert note["Subject"] == "seen quarterly"
    assert note.get_payload().strip() == "connections from this IP: 1"
    assert "scriptlet: injected" in log
