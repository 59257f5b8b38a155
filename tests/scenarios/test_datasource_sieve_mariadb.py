"""A Sieve++ mailfrom script asks a real MariaDB through a Datasource: ds_fetch decides
550 for blocked sender domains, ds_execute records every sender domain, and with the
server down datasource_error is set and the script tempfails with 451 4.3.0 while the
daemon keeps serving."""
from __future__ import annotations

import pytest

from tests.helpers.daemon import free_port, start_daemon
from tests.helpers.mysql_server import start_mariadb
from tests.scenarios.smtp_harness import RawClient

SCRIPT = r'''
require ["ec_action", "ds_fetch", "ds_execute", "variables"];
$d = vctx_mess_get "mailfrom_domain";
$action = ds_fetch "doms" "select action from domains where name = ?" ["${d}"];
$err = vctx_conn_get "datasource_error";
if not ec_test :is "${err}" "" {
  ec_action 451 "4.3.0 sender policy unavailable";
}
if ec_test :is "${action}" "reject" {
  ec_action 550 "5.7.1 sender domain ${d} is blocked";
}
ds_execute "doms" "insert into seen (domain) values (?)" ["${d}"];
'''

CONF = """
relay_domains = ( "example.com" )
ESMTP_Listener {{ Listen "127.0.0.1:{port}" {{ }} }}
Datasource "doms" {{
  uri = ( "{uri}" )
  no_cache = true
  timeout = 3
}}
sieve "s" {{
  script mailfrom_phase1 {{ source = "mailfrom.siv" }}
}}
"""


@pytest.fixture(scope="module")
def db():
    with start_mariadb() as server:
        server.sql("create table test.domains (name varchar(64) primary key, action varchar(16));"
                   "create table test.seen (domain varchar(64));"
                   "insert into test.domains values ('spam.test', 'reject'), ('ok.test', 'accept')")
        yield server


@pytest.fixture(scope="module")
def daemon(tmp_path_factory, db):
    tmp = tmp_path_factory.mktemp("dsmy")
    (tmp / "mailfrom.siv").write_text(SCRIPT)
    port = free_port()
    with start_daemon(CONF.format(port=port, uri=db.uri), tmp) as d:
        d.port = port
        d.wait_for_paniclog("ecelerity: started")
        yield d


def mail_from(port: int, sender: str):
    client = RawClient(port)
    assert client.read_reply().code == 220
    assert client.cmd("EHLO client.example").code == 250
    reply = client.cmd(f"MAIL FROM:<{sender}>")
    client.cmd("QUIT")
    return reply


def test_ds_fetch_blocks_listed_domains_and_ds_execute_records_senders(daemon, db):
    blocked = mail_from(daemon.port, "x@spam.test")
    assert blocked.code == 550 and "5.7.1 sender domain spam.test is blocked" in blocked.text
    assert mail_from(daemon.port, "y@ok.test").code == 250
    assert mail_from(daemon.port, "z@unknown.test").code == 250
    assert sorted(db.sql("select domain from test.seen").split()) == ["ok.test", "unknown.test"]


def test_server_down_sets_datasource_error_and_tempfails(daemon, db):
    db.stop()
    try:
        reply = mail_from(daemon.port, "y@ok.test")
        assert reply.code == 451 and "4.3.0 sender policy unavailable" in reply.text
        assert daemon.command("ds_core stats").ok  # the daemon still answers
    finally:
        db.start()
    assert mail_from(daemon.port, "y@ok.test").code == 250
