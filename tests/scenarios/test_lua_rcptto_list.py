"""validate_rcptto_list in a real daemon: called once with the whole envelope at DATA
(before 354) and at the first BDAT chunk; a 4xx/5xx code it sets refuses the message.

Also ``ac:inbound_session_count`` and ``msys.audit.inbound_session_count`` against live
sessions of the real listener (smtp/server.py SMTPService.sessions_by_ip).
"""
from __future__ import annotations

import time

from tests.helpers.daemon import free_port, start_daemon
from tests.scenarios.smtp_harness import RawClient

POLICY = r'''
local mod = {}
function mod:validate_rcptto_list(msg, accept, vctx)
  local calls = tonumber(vctx:get(msys.core.VCTX_CONN, "list_calls") or "0") + 1
  vctx:set(msys.core.VCTX_CONN, "list_calls", tostring(calls))
  if string.find(msg:rcptto(), "^listblock@") then
    vctx:set_code(550, "5.7.1 recipient list refused, call " .. calls)
    return msys.core.VALIDATE_DONE
  end
  return msys.core.VALIDATE_CONT
end
function mod:validate_mailfrom(str, accept, vctx)
  if string.find(str, "<count@", 1, true) then
    vctx:set_code(250, "2.1.0 sessions " .. accept:inbound_session_count() .. " "
                  .. msys.audit.inbound_session_count("127.0.0.0/8") .. " "
                  .. msys.audit.inbound_session_count("192.0.2.0/24"))
    return msys.core.VALIDATE_DONE
  end
  return msys.core.VALIDATE_CONT
end
msys.registerModule("listpolicy", mod)
'''

CONF = """
relay_domains = ( "example.com" )
ESMTP_Listener {{ Listen "127.0.0.1:{port}" {{ }} }}
scriptlet "scriptlet" {{ script "listpolicy" {{ source = "listpolicy" }} }}
"""


def _session(port: int) -> RawClient:
    client = RawClient(port)
    assert client.read_reply().code == 220
    assert client.cmd("EHLO client.example").code == 250
    return client


def test_rcptto_list_refuses_data_bdat_and_counts_live_sessions(tmp_path):
    (tmp_path / "listpolicy.lua").write_text(POLICY)
    port = free_port()
    with start_daemon(CONF.format(port=port), tmp_path) as d:
        d.wait_for_paniclog("ecelerity: started")
        client = _session(port)
        assert client.cmd("MAIL FROM:<a@client.example>").code == 250
        assert client.cmd("RCPT TO:<listblock@example.com>").code == 250
        assert client.cmd("RCPT TO:<ok@example.com>").code == 250
        reply = client.cmd("DATA")  # one call for both recipients, before any 354
        assert (reply.code, reply.text) == (550, "5.7.1 recipient list refused, call 1")
        assert client.cmd("DATA").code == 503  # the refused transaction is over

        assert client.cmd("MAIL FROM:<a@client.example>").code == 250
        assert client.cmd("RCPT TO:<listblock@example.com>").code == 250
        client.send("BDAT 5\r\nhello")  # the chunk is read away, then the refusal
        reply = client.read_reply()
        assert (reply.code, reply.text) == (550, "5.7.1 recipient list refused, call 2")
        assert client.cmd("NOOP").code == 250  # still in step with the client

        assert client.cmd("MAIL FROM:<a@client.example>").code == 250
        assert client.cmd("RCPT TO:<ok@example.com>").code == 250
        assert client.cmd("DATA").code == 354
        assert client.cmd("Subject: x\r\nFrom: a@client.example\r\n\r\nhi\r\n.").code == 250

        others = [_session(port) for _ in range(2)]  # three live sessions from 127.0.0.1
        reply = client.cmd("MAIL FROM:<count@client.example>")
        assert (reply.code, reply.text) == (250, "2.1.0 sessions 3 3 0")
        for other in others:
            other.cmd("QUIT")
            other.close()
        client.cmd("RSET")
        for _ in range(50):  # the other sessions end asynchronously in the daemon
            reply = client.cmd("MAIL FROM:<count@client.example>")
            if reply.text == "2.1.0 sessions 1 1 0":
                break
            client.cmd("RSET")
            time.sleep(0.05)
        assert reply.text == "2.1.0 sessions 1 1 0"
        client.cmd("QUIT")
        client.close()
