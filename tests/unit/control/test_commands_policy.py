"""``policy cpu`` on a real daemon: Sieve++ and Lua hook CPU counted per engine, reset, off.

The daemon runs the policy benchmark's own Sieve++ script and Lua policy (so this also
checks what the harness reads), with ECELERITY_POLICY_CPU=1 (every call timed).
"""
from __future__ import annotations

import json
import smtplib

from benchmarks.lua_policy_cost import POLICY as LUA_POLICY
from benchmarks.sieve_cost import make_script
from tests.helpers.daemon import free_port, start_daemon

CONF = """
relay_domains = ( "example.com" )
suspend_delivery = true
ESMTP_Listener {{ Listen "127.0.0.1:{port}" {{ }} }}
sieve "sieve1" {{
  runtime_error = fail
  script data_phase1 {{ source = "policy.siv" }}
}}
scriptlet "scriptlet" {{
  script "typical" {{ source = "typical" }}
}}
"""


def _send(port: int, count: int) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        for n in range(count):
            client.sendmail("a@example.org", ["rcpt@example.com"],
                            f"Subject: test {n}\r\nFrom: a@example.org\r\n\r\nbody {n}\r\n")


def _policy_cpu(daemon) -> dict:
    reply = daemon.command("policy cpu --json")
    assert reply.ok, (reply.status, reply.text, reply.body)
    return json.loads(reply.body_text)


def test_policy_cpu_counts_each_engine_and_resets(tmp_path):
    (tmp_path / "policy.siv").write_text(make_script(5))
    (tmp_path / "typical.lua").write_text(LUA_POLICY)
    port = free_port()
    with start_daemon(CONF.format(port=port), tmp_path, env={"ECELERITY_POLICY_CPU": "1"}) as daemon:
        _send(port, 3)
        data = _policy_cpu(daemon)
        assert data["enabled"] and data["sample_every"] == 1
        sieve, lua = data["engines"]["sieve"], data["engines"]["lua"]
        assert sieve["calls"] >= 3 and lua["calls"] >= 3 * 2, data  # Lua: hooks in several phases
        # every call timed but the first of each hook (compile / warm-up)
        assert sieve["calls"] - 5 <= sieve["sampled_calls"] < sieve["calls"], sieve
        assert sieve["ns"] > 0 and lua["ns"] > 0
        text = daemon.console("policy cpu").stdout
        assert "sieve: " in text and "lua: " in text and "us/call" in text, text
        assert daemon.command("policy cpu reset").ok
        _send(port, 1)
        after = _policy_cpu(daemon)["engines"]
        assert 1 <= after["sieve"]["calls"] < sieve["calls"], after
        assert not daemon.command("policy cpu bogus").ok


def test_policy_cpu_says_when_it_is_off(tmp_path):
    port = free_port()
    conf = f'relay_domains = ( "example.com" )\nESMTP_Listener {{ Listen "127.0.0.1:{port}" {{ }} }}\n'
    with start_daemon(conf, tmp_path, env={"ECELERITY_POLICY_CPU": "0"}) as daemon:
        assert _policy_cpu(daemon) == {"enabled": False, "sample_every": 0, "bias_ns": 0, "engines": {}}
        assert "ECELERITY_POLICY_CPU=1" in daemon.console("policy cpu").stdout
