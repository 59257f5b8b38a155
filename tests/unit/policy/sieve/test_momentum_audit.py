"""ec_ip_* and audit_series* over policy/audit.py's store, and the node-local shared throttles."""
from __future__ import annotations

import time

import pytest

from ecelerity.policy.audit import SeriesStore
from ecelerity.policy.sieve import MessageView, SieveCompileError, compile_script
from ecelerity.policy.sieve.ext_momentum_throttle import ThrottleCache
from ecelerity.policy.sieve.host import PolicyHost
from ecelerity.policy.sieve.phase_runner import PhaseScripts, run_phase
from ecelerity.policy.vctx import ValidationContext


def run(src: str, store: SeriesStore, shared: ThrottleCache | None = None, peer: str = "10.0.0.9"):
    vctx = ValidationContext(can_tarpit=False)
    vctx.conn["peer_ip"] = peer
    host = PolicyHost(vctx, phase="connect", peer_ip=peer, can_sleep=False, audit=store,
                      shared_throttles=shared)
    result = run_phase(PhaseScripts("connect", compile_script(src, "a.siv")), host, MessageView(b""))
    return result, vctx


def test_ec_ip_counters_count_by_ip_and_cidr():
    store, now = SeriesStore(), time.monotonic()
    for ip in ("10.0.0.9", "10.0.0.9", "10.0.0.10", "192.0.2.1"):
        store.record("connections", ip, now)
    store.record("rejections", "10.0.0.9", now)
    _, vctx = run('''$mine = ec_ip_connections ""; $block = ec_ip_connections "10.0.0.0/24";
        $recent = ec_ip_connections "10.0.0.0/8" "60"; $rej = ec_ip_rejections "10.0.0.9";
        $rec = ec_ip_receptions "10.0.0.9";
        vctx_conn_set "n" "${mine} ${block} ${recent} ${rej} ${rec}";''', store)
    assert vctx.conn["n"] == "2 3 3 1 0"
    result, _ = run('$x = ec_ip_connections "not-an-ip";', store)
    assert "not an IP address or CIDR block" in result.errors[0]


def test_record_once_counts_a_session_and_a_message_once():
    store, vctx = SeriesStore(), ValidationContext()
    vctx.conn["peer_ip"] = "10.1.1.1"
    assert store.record_once("connections", vctx, 0.0)
    assert not store.record_once("connections", vctx, 0.0)   # a second module: not again
    assert store.record_once("receptions", vctx, 0.0, "m1")
    assert not store.record_once("receptions", vctx, 0.0, "m1")
    assert store.record_once("receptions", vctx, 0.0, "m2")
    assert store.series["#receptions"].count("10.1.1.1", 0.0) == 2


def test_audit_series_add_and_count():
    store = SeriesStore()
    _, vctx = run('''$a = audit_series_add "logins" "alice"; $b = audit_series_add "logins" "alice" "4";
        $c = audit_series "logins" "alice"; $d = audit_series "nosuch" "alice";
        audit_series_add "byip" "10.0.0.9"; $e = audit_series "byip" "10.0.0.0/16";
        vctx_conn_set "s" "${a} ${b} ${c} ${d} ${e}";''', store)
    assert vctx.conn["s"] == "1 5 5 0 1"


def test_shared_throttle_is_one_cache_across_runs_and_has_no_dec():
    store, shared = SeriesStore(), ThrottleCache()
    src = '''ec_shared_throttle_create "peer" "2/60" "0.9"; ec_shared_throttle_inc "peer";
             $over = ec_shared_throttle_check "peer"; vctx_conn_set "over" $over;'''
    answers = [run(src, store, shared)[1].conn["over"] for _ in range(3)]
    assert answers == ["false", "false", "true"]
    with pytest.raises(SieveCompileError, match="unknown command 'ec_shared_throttle_dec'"):
        compile_script('ec_shared_throttle_dec "peer";')
