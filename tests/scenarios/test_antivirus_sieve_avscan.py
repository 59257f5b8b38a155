"""Sieve++ ``clamav_avscan`` in a real daemon against a real clamd (Momentum's example policy).

The engine is passive with ``action = pass``: the script runs the scan, reads
``VIRUS`` / ``VIRUS_info`` from the message context and decides the reply; a
script may set ``skip_virus_check`` to skip the scan. With no clamd listening the
script sees ``error`` and tempfails.
"""
from __future__ import annotations

import pytest

from tests.helpers.clamd import EICAR, REPORTED, start_clamd
from tests.helpers.daemon import free_port, start_daemon
from tests.helpers.sink import SmtpSink
from tests.scenarios.smtp_harness import wait_for
from tests.scenarios.test_antivirus_module_rejects_viruses import message, send

SCRIPT = r'''require ["ec_action", "vctx_mess_set"];
if header :contains "Subject" "trusted" { vctx_mess_set "skip_virus_check" "1"; }
clamav_avscan;
$status = vctx_mess_get "VIRUS";
$info = vctx_mess_get "VIRUS_info";
if ec_test :is $status "error" { ec_action 451 "4.3.0 AV system offline (${info})" "virus:check error"; }
if ec_test :is $status "infected" { ec_action 550 "5.7.1 Virus detected: ${info}" "virus:rejected"; }
ec_header_add "X-Sieve-AV" "scanned, status '${status}'";
'''

CONF = """
relay_domains = ( "example.com" )
gateway = "127.0.0.1:{sink_port}"
ESMTP_Listener {{ Listen "127.0.0.1:{port}" {{ }} }}
clamav {{ }}
antivirus "antivirus1" {{
  clamav "clamav" {{ daemon = "{socket}"  timeout = 2  enabled = false  action = pass
                    context_variable = "VIRUS" }}
}}
sieve "sieve1" {{ script data_phase1 {{ source = "av.siv" }} }}
"""


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sieve_av")
    (tmp / "mta").mkdir()
    (tmp / "mta" / "av.siv").write_text(SCRIPT)
    with start_clamd(tmp / "clamd") as clamd, SmtpSink("127.0.0.1") as sink:
        port = free_port()
        conf = CONF.format(port=port, sink_port=sink.port, socket=clamd.socket_path)
        with start_daemon(conf, tmp / "mta") as daemon:
            daemon.wait_for_paniclog("ecelerity: started")
            yield clamd, sink, daemon, port


def test_avscan_marks_the_context_and_the_script_rejects(setup):
    clamd, sink, daemon, port = setup
    reply = send(port, message(EICAR, "infected"))
    assert (reply.code, reply.text) == (550, f"5.7.1 Virus detected: {REPORTED}")


def test_clean_mail_passes_and_skip_virus_check_skips_the_scan(setup):
    clamd, sink, daemon, port = setup
    assert send(port, message(b"hello", "clean")).code == 250
    assert send(port, message(EICAR, "trusted sender")).code == 250
    assert wait_for(lambda: len(sink.messages) == 2, timeout=15), daemon.diagnostics()
    for sunk in sink.messages:
        assert b"X-Sieve-AV: scanned, status ''\r\n" in sunk.body


def test_clamd_down_is_seen_by_the_script_as_error(tmp_path):
    (tmp_path / "av.siv").write_text(SCRIPT)
    port = free_port()
    conf = CONF.format(port=port, sink_port=free_port(), socket=tmp_path / "no-clamd.sock")
    with start_daemon(conf, tmp_path) as daemon:
        daemon.wait_for_paniclog("ecelerity: started")
        reply = send(port, message(b"hello", "while down"))
    assert reply.code == 451
    assert reply.text.startswith("4.3.0 AV system offline (error: clamd at ")
