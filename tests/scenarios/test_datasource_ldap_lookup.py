"""A Lua validate_rcptto looks recipients up in a real OpenLDAP directory through a
Datasource (LDAP URL queries with an escaped $addr filter value): listed addresses,
including a second mail value of a multi-valued attribute, pass; others get 550."""
from __future__ import annotations

import pytest

from tests.helpers.daemon import free_port, start_daemon
from tests.helpers.ldap_server import ROOT_DN, ROOT_PW, SUFFIX, start_slapd
from tests.scenarios.smtp_harness import RawClient

POLICY = r'''
local mod = {}
function mod:validate_rcptto(msg, str, accept, vctx)
  local addr = string.match(str, "<([^>]*)>")
  local row = msys.db.fetch_row("dir", "ldap:///ou=people,SUFFIX?uid?sub?(mail=$addr)", { addr = addr })
  if row == nil then
    vctx:set_code(550, "5.1.1 unknown recipient")
    return msys.core.VALIDATE_DONE
  end
  vctx:set_code(250, "2.1.5 ok, mailbox of " .. row.uid)
  return msys.core.VALIDATE_DONE
end
msys.registerModule("policy", mod)
'''

CONF = """
relay_domains = ( "example.com" )
ESMTP_Listener {{ Listen "127.0.0.1:{port}" {{ }} }}
Datasource "dir" {{
  uri = ( "ldap:uri={ldap};binddn={binddn};password={password}" )
  timeout = 3
}}
scriptlet "scriptlet" {{
  script "policy" {{ source = "policy" }}
}}
"""


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    with start_slapd() as ldap:
        people = f"ou=people,{SUFFIX}"
        ldap.add(f"dn: {people}\nobjectClass: organizationalUnit\nou: people\n\n"
                 f"dn: uid=alice,{people}\nobjectClass: inetOrgPerson\nuid: alice\ncn: Alice\n"
                 "sn: A\nmail: alice@example.com\nmail: postmaster@example.com\n")
        tmp = tmp_path_factory.mktemp("dsldap")
        (tmp / "policy.lua").write_text(POLICY.replace("SUFFIX", SUFFIX))
        port = free_port()
        conf = CONF.format(port=port, ldap=ldap.uri, binddn=ROOT_DN, password=ROOT_PW)
        with start_daemon(conf, tmp) as d:
            d.port = port
            d.wait_for_paniclog("ecelerity: started")
            yield d


def test_ldap_lookup_accepts_directory_addresses_only(daemon):
    client = RawClient(daemon.port)
    assert client.read_reply().code == 220
    assert client.cmd("EHLO client.example").code == 250
    assert client.cmd("MAIL FROM:<a@client.example>").code == 250
    first = client.cmd("RCPT TO:<alice@example.com>")
    assert first.code == 250 and "mailbox of alice" in first.text
    assert "mailbox of alice" in client.cmd("RCPT TO:<postmaster@example.com>").text
    assert client.cmd("RCPT TO:<*@example.com>").code == 550  # escaped, not a wildcard
    assert client.cmd("RCPT TO:<bob@example.com>").code == 550
    client.cmd("QUIT")
