"""Issue 11 must-show: a catastrophic pattern on a 50 MB body, through the daemon.

A Lua policy (modules/scriptlet.py) runs ``msg:body_match`` with a slow pattern
(``a{1,200}\\d``: every start position tries up to 200 lengths, none matches) over a 50 MB
message in the data phase, and answers with what became of the match. Meanwhile a
second client sends ordinary messages; the test asserts the match was stopped by its
budget (core/pcre_stream.py) and that the other client was served throughout with
bounded latency (the matcher yields to the hub between windows). The policy refuses
the big message after the match, so nothing of 50 MB is spooled.
"""
from __future__ import annotations

import threading
import time

from tests.helpers.daemon import free_port, start_daemon
from tests.scenarios.smtp_harness import RawClient

POLICY = r'''
local mod = {}
function mod:validate_data(msg, accept, vctx)
  local subject = msg:header("Subject")[1] or ""
  if subject ~= "big" then return msys.core.VALIDATE_CONT end
  local ok, result = pcall(function() return msg:body_match("a{1,200}\\d") end)
  local outcome
  if ok then outcome = (result and "matched" or "no match") else outcome = "stopped: " .. tostring(result) end
  vctx:set_code(550, "5.7.1 big body match " .. outcome)
  return msys.core.VALIDATE_DONE
end
msys.registerModule("bigmatch", mod)
'''

CONF = """
relay_domains = ( "example.com" )
ESMTP_Listener {{ Listen "127.0.0.1:{port}" {{ }} }}
scriptlet "scriptlet" {{
  script "bigmatch" {{ source = "bigmatch" }}
}}
"""

BIG = b"From: a@client.example\r\nSubject: big\r\n\r\n" + (b"a" * 990 + b"\r\n") * (50_000_000 // 992)


def _send_big(port: int, result: dict) -> None:
    client = RawClient(port, timeout=60)
    try:
        assert client.read_reply().code == 220
        client.cmd("EHLO big.example")
        client.cmd("MAIL FROM:<a@client.example>")
        client.cmd("RCPT TO:<ok@example.com>")
        assert client.cmd("DATA").code == 354
        client.send(BIG)
        result["body_sent"] = time.monotonic()
        reply = client.cmd(".")
        result["reply_at"] = time.monotonic()
        result["reply"] = reply
    finally:
        client.close()


def _one_message(port: int) -> float:
    started = time.monotonic()
    client = RawClient(port)
    try:
        assert client.read_reply().code == 220
        assert client.cmd("EHLO small.example").code == 250
        assert client.cmd("MAIL FROM:<a@client.example>").code == 250
        assert client.cmd("RCPT TO:<ok@example.com>").code == 250
        assert client.cmd("DATA").code == 354
        assert client.cmd("From: a@client.example\r\nSubject: small\r\n\r\nhi\r\n.").code == 250
        client.cmd("QUIT")
    finally:
        client.close()
    return time.monotonic() - started


def test_slow_pattern_on_50mb_is_bounded_and_other_clients_are_served(tmp_path):
    (tmp_path / "bigmatch.lua").write_text(POLICY)
    port = free_port()
    with start_daemon(CONF.format(port=port), tmp_path) as daemon:
        daemon.wait_for_paniclog("ecelerity: started")
        _one_message(port)  # warm up
        result: dict = {}
        big = threading.Thread(target=_send_big, args=(port, result))
        big.start()
        latencies = []
        during_match = []
        while big.is_alive():
            latency = _one_message(port)
            latencies.append(latency)
            if "body_sent" in result and "reply_at" not in result:
                during_match.append(latency)
        big.join()
        reply = result["reply"]
        assert reply.code == 550, reply
        assert reply.text.startswith("5.7.1 big body match stopped: "), reply.text
        assert "PCRE" in reply.text
        match_seconds = result["reply_at"] - result["body_sent"]
        assert match_seconds < 6.0, match_seconds  # 2 s budget plus the 50 MB copies
        assert during_match, "no small message went through while the match ran"
        worst = max(during_match)
        print(f"\nbig message: reply {match_seconds:.2f}s after its body; "
              f"{len(during_match)} small messages during the match, worst {worst * 1000:.0f} ms, "
              f"{len(latencies)} in all, worst overall {max(latencies) * 1000:.0f} ms")
        assert worst < 1.5, during_match  # without the yields: nothing is served for the 2 s budget
