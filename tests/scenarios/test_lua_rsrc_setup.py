"""The rsrc_setup callout in a real daemon: it runs after init (Momentum's httpsrv example
registers its endpoints there), and an endpoint registered in it answers over HTTP."""
from __future__ import annotations

import http.client

from tests.helpers.daemon import free_port, start_daemon

SCRIPT = r'''
local mod = { order = {} }
function mod:init()
  table.insert(self.order, "init")
  return true
end
function mod:rsrc_setup()
  table.insert(self.order, "rsrc_setup")
  local order = self.order
  msys.httpsrv.register("GET", "/setup", function(session)
    session:response_status_set_std(200, table.concat(order, ","), "text/plain")
  end)
end
msys.registerModule("resources", mod)
'''

CONF = """
HTTP_Listener {{ Listen "127.0.0.1:{port}" {{ }} }}
httpsrv {{ }}
scriptlet "scriptlet" {{ script "resources" {{ source = "resources" }} }}
"""


def test_endpoint_registered_in_rsrc_setup_answers(tmp_path):
    (tmp_path / "resources.lua").write_text(SCRIPT)
    port = free_port()
    with start_daemon(CONF.format(port=port), tmp_path) as d:
        d.wait_for_paniclog("httpsrv: GET /setup registered")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            conn.request("GET", "/setup")
            response = conn.getresponse()
            assert (response.status, response.read()) == (200, b"init,rsrc_setup")
        finally:
            conn.close()
        assert "problem" not in "\n".join(d.command("scriptlet status").body)
