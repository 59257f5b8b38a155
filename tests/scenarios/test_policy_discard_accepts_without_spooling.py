"""A policy discard (Sieve `discard`, Lua `msg:discard`) answers 250 and spools nothing.

The neighbouring message in the same session, which no policy discards, is spooled:
the discard is per message, not per session.
"""
from __future__ import annotations

import smtplib

import pytest

from tests.helpers.daemon import free_port, start_daemon
from tests.scenarios.smtp_harness import read_spool

SIEVE = 'if header :contains "Subject" "drop me" { discard; }\n'
LUA = '''
require("msys.core")
local mod = {}
function mod:validate_data_spool(msg, accept, vctx)
  if msg:header("Subject")[1] == "lua drop" then msg:discard("dropped by lua") end
  return msys.core.VALIDATE_CONT
end
msys.registerModule("dropper", mod)
'''
CONF = {
    "sieve": """
relay_domains = ( "example.com" )
suspend_delivery = true
ESMTP_Listener {{ Listen "127.0.0.1:{port}" {{ }} }}
sieve "s" {{ script data_phase1 {{ source = "drop.siv" }} }}
""",
    "lua": """
relay_domains = ( "example.com" )
suspend_delivery = true
ESMTP_Listener {{ Listen "127.0.0.1:{port}" {{ }} }}
scriptlet "scriptlet" {{ script "dropper" {{ source = "dropper" }} }}
""",
}
SUBJECT = {"sieve": "please drop me", "lua": "lua drop"}


@pytest.mark.parametrize("engine", ["sieve", "lua"])
def test_discarded_message_gets_250_and_is_not_spooled(tmp_path, engine):
    (tmp_path / "drop.siv").write_text(SIEVE)
    (tmp_path / "dropper.lua").write_text(LUA)
    port = free_port()
    with start_daemon(CONF[engine].format(port=port), tmp_path) as daemon:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            dropped = f"From: a@sender.test\r\nSubject: {SUBJECT[engine]}\r\n\r\nbye\r\n"
            kept = "From: a@sender.test\r\nSubject: keep this\r\n\r\nhello\r\n"
            refused = client.sendmail("a@sender.test", ["x@example.com"], dropped)
            assert refused == {}  # the client was told the message was accepted
            client.sendmail("a@sender.test", ["y@example.com"], kept)
        daemon.stop()
    batches = read_spool(tmp_path / "var" / "spool")
    assert [rcpts for _env, _data, rcpts in batches] == [["y@example.com"]]
    assert b"keep this" in batches[0][1]
