"""A Lua validate_rcptto looks recipients up in a real PostgreSQL through a Datasource:
unknown users get 550 5.1.1, answers are cached (a deleted row is still seen until
cache_life), the server going down tempfails with the configured 451 4.3.0 while the
daemon keeps serving, and lookups work again once the server is back."""
from __future__ import annotations

import pytest

from tests.helpers.daemon import free_port, start_daemon
from tests.helpers.pg_server import start_postgres
from tests.scenarios.smtp_harness import RawClient

POLICY = r'''
local mod = {}
function mod:validate_rcptto(msg, str, accept, vctx)
  local addr = string.match(str, "<([^>]*)>")
  local row = msys.db.fetch_row("users", "select quota from mailboxes where email = ?", { addr })
  if row == nil then
    vctx:set_code(550, "5.1.1 no mailbox " .. addr)
    return msys.core.VALIDATE_DONE
  end
  return msys.core.VALIDATE_CONT
end
msys.registerModule("policy", mod)
'''

CONF = """
relay_domains = ( "example.com" )
ESMTP_Listener {{ Listen "127.0.0.1:{port}" {{ }} }}
Datasource "users" {{
  uri = ( "{uri}" )
  cache_life = 60
  timeout = 3
}}
scriptlet "scriptlet" {{
  script_error_reply = "451 4.3.0 mailbox lookup unavailable"
  script "policy" {{ source = "policy" }}
}}
"""


@pytest.fixture(scope="module")
def pg():
    with start_postgres() as server:
        server.psql("create table mailboxes (email text primary key, quota int);"
                    "insert into mailboxes values ('alice@example.com', 10), ('bob@example.com', 20)")
        yield server


@pytest.fixture(scope="module")
def daemon(tmp_path_factory, pg):
    tmp = tmp_path_factory.mktemp("dspg")
    (tmp / "policy.lua").write_text(POLICY)
    port = free_port()
    with start_daemon(CONF.format(port=port, uri=pg.uri), tmp) as d:
        d.port = port
        d.wait_for_paniclog("ecelerity: started")
        yield d


def codes(port: int, *addresses: str) -> list[int]:
    client = RawClient(port)
    assert client.read_reply().code == 220
    assert client.cmd("EHLO client.example").code == 250
    assert client.cmd("MAIL FROM:<a@client.example>").code == 250
    replies = [client.cmd(f"RCPT TO:<{a}>") for a in addresses]
    client.cmd("QUIT")
    return replies


def test_known_users_pass_unknown_get_550(daemon):
    ok, unknown = codes(daemon.port, "alice@example.com", "nobody@example.com")
    assert ok.code == 250
    assert unknown.code == 550 and "5.1.1 no mailbox nobody@example.com" in unknown.text


def test_second_lookup_comes_from_the_cache_not_the_server(daemon, pg):
    assert codes(daemon.port, "bob@example.com")[0].code == 250
    pg.psql("delete from mailboxes where email = 'bob@example.com'")
    assert codes(daemon.port, "bob@example.com")[0].code == 250  # cached: PostgreSQL not asked
    stats = daemon.command("ds_core stats")
    assert stats.ok and "cache_hits" in "\n".join(stats.body)
    assert daemon.command("ds_core flush users").ok
    assert codes(daemon.port, "bob@example.com")[0].code == 550  # asked again after the flush


def test_server_down_tempfails_and_the_daemon_keeps_serving(daemon, pg):
    assert codes(daemon.port, "alice@example.com")[0].code == 250  # now in the cache
    pg.stop()
    try:
        reply = codes(daemon.port, "carol@example.com")[0]
        assert reply.code == 451 and "4.3.0 mailbox lookup unavailable" in reply.text
        assert codes(daemon.port, "alice@example.com")[0].code == 250  # cached answers still served
        log = daemon.wait_for_paniclog("datasource 'users'")
        assert "msys.db.fetch_row: datasource 'users'" in log
    finally:
        pg.start()
    pg.psql("insert into mailboxes values ('carol@example.com', 1)")
    assert codes(daemon.port, "carol@example.com")[0].code == 250  # reconnected
