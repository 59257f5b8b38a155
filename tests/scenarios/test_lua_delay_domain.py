"""Scenario: a Lua console command delays a domain's queue with msys.core.dns_get_domain
and msys.core.mail_queue_delay_domain (Momentum's registerControl example).

slow.test's gateway is a port nobody listens on (the sink is down) and delivery to it is
suspended, so its mail waits in the active queue. ``delay_domain slow.test`` reports the
domain record (queue sizes, the gateway target), moves the mail to the delayed queue with
the note as its last error -- the console's ``domain`` command shows it -- and
``flush domain`` brings it back.
"""
from __future__ import annotations

import json
import smtplib
import time

from tests.helpers.daemon import free_port, start_daemon

SCRIPT = r'''
local function delay_domain(cc)
  if cc.argc < 2 then print("usage: delay_domain DOMAIN") return end
  local dr = msys.core.dns_get_domain(cc.argv[2])
  if dr == nil then print("not a domain") return end
  local target = dr.mx[1]
  print(string.format("%s active=%d delayed=%d target=%s:%d", dr.name, dr.active, dr.delayed,
                      target.ip, target.port))
  msys.core.mail_queue_delay_domain(dr, "451 4.4.1 [internal] manually delayed domain")
  local after = msys.core.dns_get_domain(cc.argv[2])
  print(string.format("after active=%d delayed=%d %s", after.active, after.delayed,
                      after.queues[1].last_error))
end
msys.registerControl("delay_domain", delay_domain)
'''

CONF = """
relay_hosts = ( "127.0.0.0/8" )
retry_interval = 600
ESMTP_Listener {{ Listen "127.0.0.1:{port}" {{ }} }}
Domain "slow.test" {{ gateway = "127.0.0.2:{down}" suspend_delivery = true }}
scriptlet "scriptlet" {{ script "delay" {{ source = "delay" }} }}
"""


def domain_json(daemon, name):
    reply = daemon.command(f"domain {name} --json")
    assert reply.status == 200, reply
    return json.loads("\n".join(reply.body))


def wait_for(predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_lua_command_delays_a_domain_queue(tmp_path):
    (tmp_path / "delay.lua").write_text(SCRIPT)
    port, down = free_port(), free_port("127.0.0.2")
    with start_daemon(CONF.format(port=port, down=down), tmp_path) as daemon:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            for i in range(3):
                client.sendmail("src@sender.test", [f"u{i}@slow.test"],
                                f"From: src@sender.test\r\nSubject: {i}\r\n\r\nhello\r\n")
        wait_for(lambda: domain_json(daemon, "slow.test")["active"] == 3)

        reply = daemon.command("delay_domain slow.test")
        assert reply.status == 200, reply
        assert reply.body == [f"slow.test active=3 delayed=0 target=127.0.0.2:{down}",
                              "after active=0 delayed=3 451 4.4.1 [internal] manually delayed domain"]
        shown = domain_json(daemon, "slow.test")
        assert (shown["active"], shown["delayed"], shown["last_error"]) == (
            0, 3, "451 4.4.1 [internal] manually delayed domain")
        assert "Last Error: 451 4.4.1 [internal] manually delayed domain" in \
            "\n".join(daemon.command("domain slow.test").body)

        flushed = json.loads("\n".join(daemon.command("flush domain slow.test --json").body))
        assert flushed["messages"] == 3
        wait_for(lambda: domain_json(daemon, "slow.test")["active"] == 3)
        assert daemon.command("delay_domain").body == ["usage: delay_domain DOMAIN"]
