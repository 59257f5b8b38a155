"""DNS faults from a real local DNS server: each ends in the right transient/permanent outcome.

One daemon, one dnsmasq (tests/reliability/faulty_dns.py: the misbehaving zones are
forwarded to a scripted server) and one SmtpSink on 127.0.0.2. One message per
faulty domain; the mainlog says what each attempt ended in (D, T or P), the spool
after a clean stop says what is still queued, the sink says what was delivered:

``servfail.test``  SERVFAIL                     -> transient (4.4.3), still queued
``hole.test``      no answer at all (timeout)   -> transient (4.4.3), still queued
``loop.test``      CNAME loop                   -> transient, no hang, still queued
``nullmx.test``    ``MX 0 .`` (RFC 7505)        -> permanent 5.1.10, a DSN to the sender
``iplit.test``     ``MX 10 127.0.0.2.``         -> never delivered to the literal, transient
``big.test``       40 MX records: the UDP answer is truncated (TC) and lacks the only
                   live host (preference 0): delivered, so the TCP retry happened
``dead.test``      30 dead MX hosts (127.0.0.3, refused) before the live one -> delivered

``dns_fallback_to_tcp = true`` (the truncation case needs it; the default, false, uses
the truncated answer as it is). The resolver's timeout is 5 s x 2 attempts (not
configurable: see delivery/dns.py), so the black hole sets this file's ~15 s length.
"""
from __future__ import annotations

import smtplib
import time

import dns.flags
import dns.message
import dns.query
import pytest

from ecelerity.log.records import split_at_record
from tests.helpers.daemon import free_port, start_daemon
from tests.helpers.sink import SmtpSink
from tests.reliability.faulty_dns import ScriptedDns, start_faulty_dns
from tests.reliability.probes import log_lines, socket_fds, spool_state, wait_for

BIG = 40
DEAD = 30
# domain -> (outcome, what the response / last_error must contain)
EXPECTED = {
    "servfail.test": ("transient", "SERVFAIL"),
    "hole.test": ("transient", "Timeout"),
    "loop.test": ("transient", "4."),
    "nullmx.test": ("permanent", "5.1.10"),
    "iplit.test": ("transient", "4."),
    "big.test": ("delivered", ""),
    "dead.test": ("delivered", ""),
}


def dns_records() -> tuple[list, dict, list]:
    mx = [("big.test", "mx-with-a-rather-long-name-00.big.test", 0)]  # first: left out of the UDP answer
    hosts = {"mx-with-a-rather-long-name-00.big.test": ["127.0.0.2"], "mx.ret.test": ["127.0.0.2"],
             "live.dead.test": ["127.0.0.2"]}
    for i in range(1, BIG):
        mx.append(("big.test", f"mx-with-a-rather-long-name-{i:02d}.big.test", i))
        hosts[f"mx-with-a-rather-long-name-{i:02d}.big.test"] = ["127.0.0.3"]
    for i in range(DEAD):
        mx.append(("dead.test", f"d{i:02d}.dead.test", i))
        hosts[f"d{i:02d}.dead.test"] = ["127.0.0.3"]
    mx += [("dead.test", "live.dead.test", 99), ("iplit.test", "127.0.0.2", 10),
           ("ret.test", "mx.ret.test", 10)]
    return mx, hosts, [("nullmx.test", 15, "000000")]


def send(port: int, domain: str) -> str:
    body = (f"From: s@ret.test\r\nTo: r@{domain}\r\nSubject: dns fault {domain}\r\n"
            f"Message-ID: <{domain}@ret.test>\r\nDate: Thu, 24 Sep 2015 13:40:03 -0700\r\n\r\nbody\r\n")
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        client.ehlo("client.test")
        client.mail("s@ret.test")
        assert client.rcpt(f"r@{domain}")[0] == 250
        code, text = client.data(body.encode())
        assert code == 250, text
        return text.decode().split()[-1]


def outcomes(cwd, batch_ids: dict[str, str]) -> dict[str, list[list[str]]]:
    """domain -> its mainlog D/T/P records (split fields)."""
    found: dict[str, list[list[str]]] = {domain: [] for domain in batch_ids}
    by_batch = {batch: domain for domain, batch in batch_ids.items()}
    for line in log_lines(cwd):
        fields = split_at_record(line)
        if len(fields) > 4 and fields[4] in ("D", "T", "P") and fields[2] in by_batch:
            found[by_batch[fields[2]]].append(fields)
    return found


def test_udp_answer_for_the_big_set_is_truncated_without_the_live_host():
    """Precondition of the big.test case: without TCP the live host is invisible."""
    mx, hosts, raw = dns_records()
    with ScriptedDns() as scripted, start_faulty_dns(scripted, mx=mx, hosts=hosts, raw=raw) as server:
        response = dns.query.udp(dns.message.make_query("big.test", "MX"), "127.0.0.1",
                                 port=server.port, timeout=5)
        full = dns.query.tcp(dns.message.make_query("big.test", "MX"), "127.0.0.1",
                             port=server.port, timeout=5)
    assert response.flags & dns.flags.TC
    names = {rd.exchange.to_text() for rrset in response.answer for rd in rrset}
    assert "mx-with-a-rather-long-name-00.big.test." not in names, names
    assert sum(len(rrset) for rrset in full.answer) == BIG


@pytest.mark.timeout(90)
def test_dns_faults_end_in_the_right_outcome(tmp_path, figures):
    mx, hosts, raw = dns_records()
    smtp_port = free_port()
    with ScriptedDns() as scripted, start_faulty_dns(scripted, mx=mx, hosts=hosts, raw=raw) as server, \
            SmtpSink("127.0.0.2") as sink:
        resolv = tmp_path / "resolv.conf"
        resolv.write_text(f"nameserver 127.0.0.1:{server.port}\n")
        config = (f'resolv_conf = "{resolv}"\nremote_smtp_port = {sink.port}\n'
                  f'relay_domains = ( {" ".join(chr(34) + d + chr(34) for d in EXPECTED)} )\nhostname = "mta.test"\ndns_fallback_to_tcp = true\n'
                  "connect_timeout = 2\nretry_interval = 300\nmax_retry_interval = 300\n"
                  'ec_logger "ec_logger" { mainlog = "var/log/mainlog.ec" heartbeat = 0 }\n'
                  f'ESMTP_Listener {{ Listen "127.0.0.1:{smtp_port}" {{ }} }}\n')
        cwd = tmp_path / "daemon"
        with start_daemon(config, cwd) as daemon:
            baseline = socket_fds(daemon.pid)
            started = time.monotonic()
            batch_ids = {domain: send(smtp_port, domain) for domain in EXPECTED}
            wait_for(lambda: all(outcomes(cwd, batch_ids).values()), 40,
                     "a mainlog outcome for every domain",
                     lambda: f"{outcomes(cwd, batch_ids)}\n{daemon.diagnostics()}")
            seconds = round(time.monotonic() - started, 2)
            wait_for(lambda: socket_fds(daemon.pid) <= baseline, 10, "no leaked socket",
                     lambda: f"{socket_fds(daemon.pid)} sockets, baseline {baseline}")
            wait_for(lambda: any(m.mail_from == "" for m in sink.messages), 15, "the null-MX DSN",
                     daemon.diagnostics)
            leaked = socket_fds(daemon.pid) - baseline
            assert daemon.stop() == 0, daemon.diagnostics()
        records = outcomes(cwd, batch_ids)
        queued = {m["rcpt"].split("@")[1]: m for m in spool_state(cwd / "var" / "spool")["messages"]}
    delivered = {rcpt.split("@")[1] for m in sink.messages if m.mail_from for rcpt in m.rcpts}
    dsns = [m for m in sink.messages if m.mail_from == ""]
    problems = []
    for domain, (outcome, needle) in EXPECTED.items():
        kinds = [f[4] for f in records[domain]]
        text = " | ".join(f[-1] for f in records[domain] if f[4] in "TP")
        row = dict(domain=domain, expected=outcome, mainlog=",".join(kinds), response=text[:120],
                   queries_to_scripted_server=scripted.queries.get(domain, "-"))
        if outcome == "delivered":
            ok = domain in delivered and kinds == ["D"]
        elif outcome == "permanent":
            ok = kinds == ["P"] and needle in text and domain not in queued and domain not in delivered
        else:
            entry = queued.get(domain)
            ok = (set(kinds) == {"T"} and entry is not None and entry["retries"] >= 1
                  and needle.lower() in (entry["last_error"] or "").lower() and domain not in delivered)
            row["last_error"] = entry and entry["last_error"]
        row["ok"] = ok
        figures("dns_faults", **row)
        if not ok:
            problems.append(row)
    figures("dns_faults_summary", faults=len(EXPECTED), seconds_to_all_outcomes=seconds,
            leaked_sockets=leaked, dsns=len(dsns))
    assert not problems, problems
    assert len(dsns) == 1 and dsns[0].rcpts == ["s@ret.test"] and b"nullmx.test" in dsns[0].body, dsns
    assert leaked <= 0
