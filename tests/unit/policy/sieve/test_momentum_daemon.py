"""Sieve++ functions that reach the daemon (ext_momentum_daemon.py) and the phase
semantics of redirect and reject-after-DATA (phase_runner.py), over a real vctx,
real files, a real dnsmasq and the offline injector (PolicyHost.inject without a spool)."""
from __future__ import annotations

import email
import os

import pytest

from ecelerity.core.envelope import Envelope, Recipient
from ecelerity.policy.phases import DONE
from ecelerity.policy.sieve import compile_script
from ecelerity.policy.sieve.ext_momentum_daemon import write_maildir
from ecelerity.policy.sieve.host import PolicyHost
from ecelerity.policy.sieve.phase_runner import PhaseScripts, apply_to_vctx, build_view, run_phase
from ecelerity.policy.vctx import ValidationContext
from ecelerity.smtp.accept import InboundMessage
from ecelerity.smtp.headers import split_message

MSG = b"From: a@b.org\r\nSubject: Hello\r\n\r\nbody line\r\n"


def run(src: str, phase: str = "data", *, rcpts=("x@example.com",), runtime_error="fail", host_kw=None):
    vctx = ValidationContext(can_tarpit=False)
    vctx.conn["peer_ip"] = "192.0.2.7"
    recipients = [Recipient(r) for r in rcpts]
    message = None
    if phase in ("data", "spool", "each_rcpt", "set_binding"):
        message = InboundMessage(Envelope(mail_from="a@b.org", recipients=recipients), "MSGID",
                                 split_message(MSG))
        vctx.recipients = list(recipients)
    logged: list[str] = []
    host = PolicyHost(vctx, phase=phase, message=message, mail_from="a@b.org", peer_ip="192.0.2.7",
                      message_id="MSGID", can_sleep=False, log=logged.append,
                      recipient=recipients[0] if phase in ("rcptto", "each_rcpt") else None,
                      **(host_kw or {}))
    view = build_view(phase, host, message)
    result = run_phase(PhaseScripts(phase, compile_script(src, "f.siv")), host, view,
                       runtime_error=runtime_error)
    return result, vctx, host, logged


def test_ec_log_file_appends_lines(tmp_path):
    path = tmp_path / "policy.log"
    run(f'ec_log_file "{path}" "first %{{vctx_conn:peer_ip}}"; ec_log_file "{path}" "second";')
    assert path.read_text() == "first 192.0.2.7\nsecond\n"
    result, _, _, _ = run(f'ec_log_file "{tmp_path}/no/such/dir/x.log" "x";')
    assert "ec_log_file: cannot write" in result.errors[0] and result.reply[0] == 451


def test_ec_maildir_delivers_a_copy_with_this_runs_header_edits(tmp_path):
    box = tmp_path / "Maildir"
    result, _, _, _ = run(f'ec_header_add "X-Filed" "yes"; ec_maildir "{box}";')
    assert not result.errors
    [name] = os.listdir(box / "new")
    assert os.listdir(box / "tmp") == [] and os.listdir(box / "cur") == []
    data = (box / "new" / name).read_bytes()
    assert data.startswith(b"X-Filed: yes\r\n") and data.endswith(b"body line\r\n")
    assert write_maildir(str(box), b"x") != str(box / "new" / name)  # unique names


def test_ec_maildir_before_data_is_a_runtime_error(tmp_path):
    result, _, _, _ = run(f'ec_maildir "{tmp_path}/m";', phase="mailfrom")
    assert "needs the message" in result.errors[0]


def test_generate_mail_raw_and_ec_forward_inject(tmp_path):
    _, _, host, _ = run('''$id = generate_mail_raw "robot@b.org" ["u1@x.org", "u2@y.org"]
            "Subject: hi\nFrom: robot@b.org\n\nnew body\n";
        vctx_mess_set "id" $id;
        ec_forward "archive@z.org";''')
    [(sender, rcpts, data), (fsender, frcpts, fdata)] = host.injected
    assert (sender, rcpts) == ("robot@b.org", ["u1@x.org", "u2@y.org"])
    assert data == b"Subject: hi\r\nFrom: robot@b.org\r\n\r\nnew body\r\n"
    assert (fsender, frcpts, fdata) == ("a@b.org", ["archive@z.org"], MSG)
    assert host.vctx.mess["id"] == "offline-1"
    result, _, _, _ = run('generate_mail_raw "a@b.org" "not-an-address" "x";')
    assert "invalid recipients" in result.errors[0]


def test_routing_gateway_trace_context_capabilities_and_cluster_cache():
    result, vctx, _, _ = run('''ec_set_routing_gateway "smarthost.example:2525";
        ec_trace_context "rule-7";
        advertize_esmtp_capability "XFOO"; disable_esmtp_capability "PIPELINING";
        ec_cluster_cache_set "c" "k" "v1"; $got = ec_cluster_cache_get "c" "k";
        $none = ec_cluster_cache_get "c" "other"; vctx_mess_set "cache" "${got}|${none}";''')
    assert not result.errors
    assert vctx.mess["routing_gateway"] == "smarthost.example:2525"
    assert [(e.name, e.value, e.mode) for e in vctx.header_edits] == [
        ("X-Trace-Context", "MSGID 192.0.2.7 rule-7", "prepend")]
    assert vctx.capability_edits == [("add", "XFOO"), ("remove", "PIPELINING")]
    assert vctx.mess["cache"] == "v1|"


def test_ec_error_mode_continue_overrides_fail_for_the_run():
    result, _, _, _ = run('ec_error_mode "continue"; $x = ec_div 1 0;')
    assert result.errors and result.reply is None
    result, _, _, _ = run('$x = ec_div 1 0;')
    assert result.reply[0] == 451
    result, _, _, _ = run('ec_error_mode "sometimes";', runtime_error="continue")
    assert "expected \"fail\" or \"continue\"" in result.errors[0]


def test_envelope_and_redirect_function_forms_change_the_recipients():
    _, vctx, _, _ = run('$to = envelope "to"; $from = envelope "from"; vctx_mess_set "e" "${from}>${to}";'
                        '$ok = redirect "new@example.net";', rcpts=("r1@x.org", "r2@x.org"))
    assert vctx.mess["e"] == "a@b.org>r1@x.org, r2@x.org"
    assert [r.address for r in vctx.recipients] == ["new@example.net"]
    _, vctx, _, _ = run('require "copy"; redirect :copy "copy@example.net";', rcpts=("r1@x.org",))
    assert [r.address for r in vctx.recipients] == ["r1@x.org", "copy@example.net"]
    _, vctx, host, _ = run('redirect "other@example.net";', phase="rcptto", rcpts=("r1@x.org",))
    assert host.recipient.address == "other@example.net"


def test_reject_before_data_is_550_and_after_data_a_notice_to_the_sender():
    result, vctx, host, _ = run('require "reject"; reject "not wanted here";', phase="rcptto")
    assert apply_to_vctx(result, vctx, host, reject_mode="mdn") == DONE
    assert (vctx.code.code, vctx.code.enhanced) == (550, "5.7.1") and not host.injected
    result, vctx, host, _ = run('require "reject"; reject "not wanted here";')
    assert apply_to_vctx(result, vctx, host, reject_mode="mdn") == DONE
    assert vctx.discarded and vctx.code is None
    [(sender, rcpts, data)] = host.injected
    assert (sender, rcpts) == ("", ["a@b.org"])
    notice = email.message_from_bytes(data)
    assert notice.get_content_type() == "multipart/report" and notice["To"] == "<a@b.org>"
    human, status, headers = notice.get_payload()
    assert "not wanted here" in human.get_payload()
    assert "Final-Recipient: rfc822; x@example.com" in str(status) and "Status: 5.7.1" in str(status)
    assert "Subject: Hello" in headers.get_payload()


def test_reject_mode_550_and_null_sender_keep_the_550():
    result, vctx, host, _ = run('ec_reject "5.7.0 go";')
    apply_to_vctx(result, vctx, host, reject_mode="550")
    assert (vctx.code.code, vctx.code.enhanced, vctx.code.text) == (550, "5.7.0", "go")
    result, vctx, host, _ = run('ec_reject "go";')
    host.mail_from = ""
    apply_to_vctx(result, vctx, host, reject_mode="mdn")
    assert vctx.code.code == 550 and not host.injected


def test_reject_in_each_rcpt_drops_only_that_recipient():
    result, vctx, host, _ = run('ec_reject "no";', phase="each_rcpt", rcpts=("r1@x.org", "r2@x.org"))
    apply_to_vctx(result, vctx, host, reject_mode="mdn")
    assert [r.address for r in vctx.recipients] == ["r2@x.org"] and not vctx.discarded
    assert b"Final-Recipient: rfc822; r1@x.org" in host.injected[0][2]
    assert b"r2@x.org" not in host.injected[0][2]


@pytest.fixture(scope="module")
def dns():
    from tests.helpers.dns_server import start_dns
    with start_dns(mx=[("mail.test", "mx2.mail.test", 20), ("mail.test", "mx1.mail.test", 10)],
                   hosts={"mx1.mail.test": ["127.0.0.5"], "mx2.mail.test": ["127.0.0.6"]},
                   raw=[("txt.test", 16, "0568656c6c6f")]) as server:
        yield server


def test_ec_dns_lookup_a_mx_txt_and_nxdomain(dns):
    from ecelerity.delivery.dns import DnsResolver
    resolver = DnsResolver(nameserver=dns.address)
    result, vctx, _, _ = run('''$a = ec_dns_lookup "mx1.mail.test";
        $mx = ec_dns_lookup "mail.test" "MX"; $txt = ec_dns_lookup "txt.test" "txt";
        $none = ec_dns_lookup "nothing.test";
        vctx_mess_set "r" "${a}|${mx}|${txt}|${none}";''', host_kw={"dns": resolver})
    assert not result.errors, result.errors
    assert vctx.mess["r"] == "127.0.0.5|mx1.mail.test, mx2.mail.test|hello|"
    result, _, _, _ = run('$x = ec_dns_lookup "a.test" "SRV";', host_kw={"dns": resolver})
    assert "unsupported record type 'SRV'" in result.errors[0]


def test_routing_gateway_in_each_rcpt_is_for_that_recipient_only():
    result, vctx, _, _ = run('ec_set_routing_gateway "10.1.2.3:2525";', "each_rcpt",
                             rcpts=("One@X.org", "two@x.org"))
    assert not result.errors
    assert vctx.mess["routing_gateway:one@x.org"] == "10.1.2.3:2525"
    assert "routing_gateway" not in vctx.mess and "routing_gateway:two@x.org" not in vctx.mess
    result, _, _, _ = run('ec_set_routing_gateway "two words";', "each_rcpt")
    assert "invalid gateway" in result.errors[0]
