"""Scenario: a Lua policy verifies DKIM through msys.validate.opendkim.* in a real SMTP
session. Messages are signed by the real OpenDKIM (opendkim-testmsg); the key is in
dnsmasq, which the daemon reaches through its ``resolv_conf``. A good signature is
annotated by Lua (domain, selector, key size, canonicalisation...) and arrives at the
sink; a changed body is refused by Lua with the error opendkim reported; an unsigned
message arrives with ``opendkim_result`` = none from ``validate_inbound``.
Lua's msys.validate.opendkim.sign then signs with keybuf/selector overrides, and
opendkim verifies that too.
"""
from __future__ import annotations

import smtplib

from tests.helpers.daemon import free_port, start_daemon
from tests.helpers.dns_server import start_dns
from tests.helpers.opendkim import genkey, opendkim_sign, opendkim_verify
from tests.helpers.sink import SmtpSink
from tests.scenarios.test_console_queue import wait_for

POLICY = r'''
require("msys.validate.opendkim")
local dk = msys.validate.opendkim
local mod = {}

function mod:validate_data(msg, accept, vctx)
  local dkim, stat = dk.verify(msg)
  local num = dk.get_num_sigs(dkim)
  local notes = { "inbound=" .. tostring(vctx:get(msys.core.VCTX_MESS, "opendkim_result")),
                  "n=" .. num, "stat=" .. stat }
  for i = 0, num - 1 do
    local sig = dk.get_sig(dkim, i)
    local hc, bc = dk.get_sig_canons(sig)
    local size = dk.get_sig_keysize(sig)
    if dk.get_sig_flags(sig) % 8 < 4 then   -- DKIM_SIGFLAG_PASSED (0x04) unset
      vctx:set_code(550, "5.7.1 DKIM verification failed: " .. dk.get_sig_errorstr(sig))
      return msys.core.VALIDATE_DONE
    end
    table.insert(notes, dk.get_sig_domain(sig) .. "/" .. dk.get_sig_selector(sig) .. "/"
      .. dk.get_sig_signalg(sig) .. "/" .. size .. "/" .. hc .. "-" .. bc .. "/"
      .. tostring(dk.get_sig_hdrsigned(sig, "From")) .. "/" .. dk.get_sig_identity(sig))
  end
  msg:header("X-DKIM-Lua", table.concat(notes, " "))
  if msg:header("Subject")[1] == "lua signs" then
    local ok, why = dk.sign(msg, vctx, { selector = "s2", header_canon = "simple",
                                         keybuf = KEYBUF, base_domain = "other.test" })
    if not ok then vctx:set_code(451, "4.3.0 " .. why) return msys.core.VALIDATE_DONE end
  end
  return msys.core.VALIDATE_CONT
end

msys.registerModule("dkimcheck", mod)
'''

CONF = """
relay_hosts = ( "127.0.0.0/8" )
resolv_conf = "resolv.conf"
ESMTP_Listener {{ Listen "127.0.0.1:{port}" {{ }} }}
Domain "dest.test" {{ gateway = "127.0.0.3:{sink}" }}
opendkim "verifier" {{ validate_inbound = true }}
scriptlet "scriptlet" {{ script "dkimcheck" {{ source = "dkimcheck" }} }}
"""

MESSAGE = (b"From: Alice <a@example.test>\r\nTo: b@dest.test\r\nSubject: %s\r\n"
           b"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <%s@example.test>\r\n\r\n"
           b"signed body\r\n")


def _send(port: int, data: bytes) -> tuple[int, bytes]:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.ehlo()
        client.mail("a@example.test")
        client.rcpt("b@dest.test")
        return client.data(data)


def test_lua_reads_opendkim_results_and_signs(tmp_path):
    key = genkey(tmp_path / "keys", "example.test", "s1")
    other = genkey(tmp_path / "keys", "other.test", "s2")
    keybuf = "".join(line for line in other.private.read_text().splitlines() if "-----" not in line)
    (tmp_path / "dkimcheck.lua").write_text(POLICY.replace("KEYBUF", f'"{keybuf}"'))
    port = free_port()
    with start_dns(raw=[key.dns_raw]) as dns, SmtpSink("127.0.0.3") as sink:
        (tmp_path / "resolv.conf").write_text(f"nameserver 127.0.0.1:{dns.port}\n")
        with start_daemon(CONF.format(port=port, sink=sink.port), tmp_path) as daemon:
            daemon.wait_for_paniclog("ecelerity: started")
            good = opendkim_sign(MESSAGE % (b"good", b"1"), key)
            assert _send(port, good)[0] == 250
            bad = opendkim_sign(MESSAGE % (b"bad", b"2"), key).replace(b"signed body", b"changed")
            code, text = _send(port, bad)
            assert code == 550 and b"DKIM verification failed: body hash mismatch" in text
            assert _send(port, MESSAGE % (b"plain", b"3"))[0] == 250
            assert _send(port, opendkim_sign(MESSAGE % (b"lua signs", b"4"), key))[0] == 250
            wait_for("3 deliveries", lambda: len(sink.messages) == 3)
    bodies = {m.body.split(b"Subject: ")[1].split(b"\r\n")[0]: m.body for m in sink.messages}
    assert (b"X-DKIM-Lua: inbound=pass n=1 stat=0 example.test/s1/rsa-sha1/1024/"  # testmsg signs a=rsa-sha1
            b"relaxed-simple/true/@example.test") in bodies[b"good"]
    assert b"X-DKIM-Lua: inbound=none n=0 stat=2" in bodies[b"plain"]
    lua_signed = bodies[b"lua signs"]
    assert b"d=other.test" in lua_signed and b"s=s2" in lua_signed and b"c=simple/" in lua_signed
    code, err = opendkim_verify(lua_signed, [key, other])
    assert code == 0, err
