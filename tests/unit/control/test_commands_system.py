"""ecelerity/control/commands_system.py and commands_dns.py against a real in-process App:
process figures, connection counts, modules, spool_in, unlink stats, and dig / dns_cache /
refresh domain through the real resolver talking to a real dnsmasq."""
from __future__ import annotations

import gc
import json
import os

import gevent
import gevent.event

import pytest

from tests.helpers.dns_server import start_dns
from tests.unit.control._console_app import queue_mail, run, running_app, stop


def ok(reply):
    assert reply.status == 200, (reply.status, reply.text, reply.body)
    return reply.body


def data(app, line):
    return json.loads("\n".join(ok(run(app, line + " --json"))))


@pytest.fixture
def app(tmp_path):
    app = running_app(tmp_path)
    yield app
    stop(app)


def test_process_figures(app):
    memory = data(app, "memory")
    assert memory["rss_kb"] > 1000 and memory["peak_rss_kb"] >= memory["rss_kb"] // 2
    assert data(app, "sysinfo")["pid"] == os.getpid()
    assert any(row["pool"] == "os threads" and row["threads"] >= 1 for row in data(app, "threads"))
    assert data(app, "count") == {"inbound": 0, "outbound": 0}
    assert ok(run(app, "show outbound")) == ["Outbound connections: 0"]


def test_threads_counts_live_greenlets_and_the_threadpool(app):
    def greenlets():
        gc.collect()  # dead greenlets still in the heap would blur the difference
        [row] = [r for r in data(app, "threads") if r["pool"] == "greenlets"]
        return row["threads"]

    before = greenlets()
    release = gevent.event.Event()
    parked = [gevent.spawn(release.wait) for _ in range(40)]
    gevent.sleep(0)
    during = greenlets()
    release.set()
    gevent.joinall(parked)
    del parked
    gc.collect()
    after = greenlets()
    assert during - before >= 40 and during - before <= 45, (before, during)
    assert after <= before + 5, (before, after)
    [pool] = [r for r in data(app, "threads") if r["pool"] == "gevent threadpool"]
    assert pool["max"] >= 1 and pool["queued"] >= 0 and pool["threads"] >= 0
    assert any(line.startswith("greenlets: ") and line.endswith(" live") for line in ok(run(app, "threads")))


def test_spool_in_and_unlink_stats(app):
    assert data(app, "spool_in")["messages"] == 0
    queue_mail(app, ["a@one.test", "b@one.test"])
    figures = data(app, "unlink stats")
    assert figures["messages_in_spool"] == 2 and figures["records"] >= 1
    ok(run(app, "fail domain quiet one.test"))
    assert data(app, "unlink stats")["messages_in_spool"] == 0


def test_module_commands_without_a_module_service(app):
    reply = run(app, "module list")
    assert (reply.status, reply.text) == (501, "module list: the module service is not running")
    assert run(app, "module").status == 400
    assert ok(run(app, "module hooks")) == []


def test_dig_dns_cache_and_refresh_domain(tmp_path):
    with start_dns(mx=[("mx.test", "mx1.mx.test", 10)], hosts={"mx1.mx.test": ["127.0.0.2"]}, ttl=300) as dns:
        conf = tmp_path / "resolv.conf"
        conf.write_text(f"nameserver {dns.address[0]}:{dns.address[1]}\n")
        app = running_app(tmp_path, f'resolv_conf = "{conf}"\n')
        try:
            assert ok(run(app, "dig mx.test")) == ["Domain 'mx.test' has 1 MXs", "  [10 mx1.mx.test]",
                                                   "        [127.0.0.2]"]
            before = data(app, "dns_cache stats")
            assert before["entries"] >= 2 and before["queries_sent"] >= 2
            ok(run(app, "dig mx.test"))
            assert data(app, "dns_cache stats")["queries_sent"] == before["queries_sent"]  # cached
            assert data(app, "refresh domain mx.test")["entries_dropped"] == 1
            ok(run(app, "dig mx.test"))
            assert data(app, "dns_cache stats")["queries_sent"] == before["queries_sent"] + 1
            missing = run(app, "dig nosuch.test")
            assert missing.status == 550 and missing.text.startswith("dig: nosuch.test: ")
            assert data(app, "dns_cache flush")["entries_dropped"] >= 2
            assert run(app, "dns_cache bogus").status == 400
        finally:
            stop(app)
