"""msys.av.engines / scan / scan_part in a real daemon's Lua policy, against a real clamd.

The engine is passive (``enabled = false``): only the script scans. The script
puts what msys.av returned into the SMTP reply (infected) or a header the sink
receives (clean), so the test sees Lua's four return values end to end.
"""
from __future__ import annotations

import pytest

from tests.helpers.clamd import EICAR, REPORTED, start_clamd
from tests.helpers.daemon import free_port, start_daemon
from tests.helpers.sink import SmtpSink
from tests.scenarios.smtp_harness import wait_for
from tests.scenarios.test_antivirus_module_rejects_viruses import message, send

POLICY = r'''
local mod = {}
function mod:validate_data(msg, accept, vctx)
  local names = table.concat(msys.av.engines(), ",")
  if msg:header("Subject")[1] == "parts" then
    local root = msg:mime()
    local seen = { "root=" .. msys.av.scan_part(root, "clamav1") }
    for i, part in ipairs(root:children()) do
      local status, info = msys.av.scan_part(part, "clamav1")
      seen[#seen + 1] = i .. "=" .. status .. ":" .. tostring(info)
    end
    vctx:set_code(554, "5.7.0 parts " .. table.concat(seen, " "))
    return msys.core.VALIDATE_DONE
  end
  local status, info, engine, code = msys.av.scan(msg, "clamav1")
  if status == msys.av.EC_AV_INFECTED then
    vctx:set_code(554, "5.7.0 Lua saw " .. info .. " from " .. engine .. " (" .. code .. ") engines "
                  .. names .. " ctx " .. vctx:get(msys.core.VCTX_MESS, "VIRUS_info"))
    return msys.core.VALIDATE_DONE
  end
  local missing = msys.av.scan("nosuch", msg)
  msg:header("X-AV-Lua", status .. " " .. tostring(info) .. " " .. tostring(engine) .. " " .. code
             .. " missing=" .. missing)
  return msys.core.VALIDATE_CONT
end
msys.registerModule("av", mod)
'''

CONF = """
relay_domains = ( "example.com" )
gateway = "127.0.0.1:{sink_port}"
ESMTP_Listener {{ Listen "127.0.0.1:{port}" {{ }} }}
antivirus "antivirus1" {{
  clamav "clamav1" {{ daemon = "{socket}"  timeout = 2  enabled = false  context_variable = "VIRUS" }}
}}
scriptlet "scriptlet" {{ script "av" {{ source = "av" }} }}
"""


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("lua_av")
    (tmp / "mta").mkdir()
    (tmp / "mta" / "av.lua").write_text(POLICY)
    with start_clamd(tmp / "clamd") as clamd, SmtpSink("127.0.0.1") as sink:
        port = free_port()
        conf = CONF.format(port=port, sink_port=sink.port, socket=clamd.socket_path)
        with start_daemon(conf, tmp / "mta") as daemon:
            daemon.wait_for_paniclog("ecelerity: started")
            yield sink, daemon, port


def test_scan_returns_status_virus_name_engine_and_code_and_marks_the_context(setup):
    sink, daemon, port = setup
    reply = send(port, message(EICAR, "infected"))
    assert (reply.code, reply.text) == (
        554, f"5.7.0 Lua saw {REPORTED} from clamav1 (FOUND) engines clamav1 ctx {REPORTED}")


def test_clean_scan_and_an_unknown_engine(setup):
    sink, daemon, port = setup
    assert send(port, message(b"nothing here", "clean")).code == 250
    assert wait_for(lambda: sink.messages, timeout=15), daemon.diagnostics()
    [sunk] = [m for m in sink.messages if b"Subject: clean" in m.body]
    assert b"X-AV-Lua: 0 nil nil OK missing=4\r\n" in sunk.body  # EC_AV_CLEAN, EC_AV_NO_ENGINE


def test_scan_part_scans_decoded_parts_and_refuses_the_container(setup):
    sink, daemon, port = setup
    reply = send(port, message(EICAR, "parts"))
    assert (reply.code, reply.text) == (554, f"5.7.0 parts root=6 1=0:nil 2=1:{REPORTED}")
