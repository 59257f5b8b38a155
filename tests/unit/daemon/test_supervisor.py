"""Worker processes, in-process parts: limit shares, the ConfigView, leases, merging,
spool partition adoption and the supervisor's small helpers (the processes themselves
are tested in tests/scenarios/test_workers_*.py)."""
from __future__ import annotations

import os
import shutil
import tempfile
from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st

from ecelerity.config.parser import parse_text
from ecelerity.config.resolver import Config
from ecelerity.config.types import Rate
from ecelerity.control.aggregate import merge
from ecelerity.core.envelope import Envelope, Recipient
from ecelerity.core.spool import Spool
from ecelerity.core.spool_service import adopt_orphans, orphan_partitions
from ecelerity.daemon.leases import LeaseBook
from ecelerity.daemon.shares import ConfigView, unit_share
from ecelerity.daemon.supervisor import choose_run_dir
from ecelerity.daemon.workers import parse_worker_arg, worker_count


def config(text: str) -> Config:
    return Config(parse_text(text), files=[], warnings=[])


# -- shares -----------------------------------------------------------------------------------
@settings(max_examples=300, deadline=None)
@given(value=st.integers(0, 10_000), count=st.integers(1, 16), key=st.text(max_size=12))
def test_unit_shares_add_up_exactly_and_differ_by_at_most_one(value, count, key):
    shares = [unit_share(value, i, count, ("moc", key)) for i in range(count)]
    assert sum(shares) == value
    assert max(shares) - min(shares) <= 1
    if value >= count:
        assert min(shares) >= 1


def test_small_limits_land_on_different_workers_for_different_scopes():
    owners = {next(i for i in range(4) if unit_share(1, i, 4, ("moc", None, f"d{n}.test")))
              for n in range(40)}
    assert len(owners) > 1  # not always worker 0


def view(text: str, index: int, count: int = 2, leases=None) -> ConfigView:
    return ConfigView(config(text), index=index, count=count, control_path="/tmp/w.sock",
                      leases=leases)


def test_config_view_splits_limits_and_rates_between_workers():
    text = ('spoolbase = "/s"\nmax_outbound_connections = 5\nserver_max_outbound_connections = 9\n'
            'outbound_throttle_messages = "10/60"\n'
            'domain "a.test" { max_outbound_connections = 3 }\n'
            'ESMTP_Listener { listener_sessions = 7 Listen "127.0.0.1:25" { } Listen "/tmp/x.sock" { } }\n')
    views = [view(text, i) for i in (0, 1)]
    assert [v.get("spoolbase") for v in views] == ["/s/w0", "/s/w1"]
    assert sum(v.get("max_outbound_connections", domain="b.test") for v in views) == 5
    assert sorted(v.get("max_outbound_connections", domain="a.test") for v in views) == [1, 2]
    assert sum(v.get("server_max_outbound_connections") for v in views) == 9
    rates = [v.throttle_scope("outbound_throttle_messages", domain="a.test") for v in views]
    assert sum(r[1].count for r in rates) == 10 and {r[1].seconds for r in rates} == {60}
    assert sum(v.get_inbound("listener_sessions", listen="127.0.0.1:25") for v in views) == 7
    assert views[0].get("max_retries") == views[0].config.get("max_retries")  # untouched
    assert [s.kind for s in views[0].listens()] == ["tcp", "unix"]
    assert [s.kind for s in views[1].listens()] == ["tcp"]  # unix listeners: worker 0 only
    assert [(s.kind, s.path) for s in views[1].listens("control_listener")] == [("unix", "/tmp/w.sock")]
    assert views[1].reuse_port is True


def test_small_limits_go_through_one_lease_holder(tmp_path):
    text = 'max_outbound_connections = 1\ndomain "b.test" { outbound_throttle_messages = "1/5" }\n'
    books = [LeaseBook(str(tmp_path), manager=lambda: None, config=lambda: config(text))
             for _ in range(2)]
    views = [view(text, i, leases=books[i]) for i in (0, 1)]
    assert views[0].get("max_outbound_connections", domain="a.test") == 1
    assert views[1].get("max_outbound_connections", domain="a.test") == 0  # not its turn
    assert views[1].get("max_outbound_connections", domain="c.test") == 1  # another scope
    assert views[1].throttle_scope("outbound_throttle_messages", domain="b.test")[1] == Rate(1, 5)
    books[0].close()  # the holder goes away (as a dead worker's flocks do)
    assert views[1].get("max_outbound_connections", domain="a.test") == 1
    books[1].close()


def test_a_lease_is_given_back_once_its_scope_is_quiet(tmp_path):
    now = [100.0]
    queue = SimpleNamespace(in_flight=1)
    in_flight = {("default", "a.test"): queue}
    manager = SimpleNamespace(in_flight=lambda b, d: in_flight[(b, d)].in_flight, wake=lambda: None)
    cfg = config("idle_timeout = 3\n")
    book = LeaseBook(str(tmp_path), manager=lambda: manager, config=lambda: cfg, clock=lambda: now[0])
    other = LeaseBook(str(tmp_path), manager=lambda: None, config=lambda: cfg)
    assert book.acquire([("moc", None, "a.test")], queue=(None, "a.test"))
    now[0] += 60
    book.tick()
    assert book.held  # a delivery is still in flight
    queue.in_flight = 0
    now[0] += 3.5
    book.tick()
    assert book.held  # idle pooled connections may live for idle_timeout + 1
    assert not other.acquire([("moc", None, "a.test")], queue=(None, "a.test"))
    now[0] += 1
    book.tick()
    assert not book.held
    assert other.acquire([("moc", None, "a.test")], queue=(None, "a.test"))
    other.close()


def test_lease_book_takes_all_or_none(tmp_path):
    cfg = config("")
    first = LeaseBook(str(tmp_path), manager=lambda: None, config=lambda: cfg)
    second = LeaseBook(str(tmp_path), manager=lambda: None, config=lambda: cfg)
    assert first.acquire([("b",)], queue=(None, "x"))
    assert not second.acquire([("a",), ("b",)], queue=(None, "x"))
    assert not second.held  # "a" was given back when "b" could not be had
    assert first.acquire([("a",)], queue=(None, "x"))
    first.close()
    second.close()


# -- merging -----------------------------------------------------------------------------------
def test_merge_sums_numbers_keeps_texts_and_joins_rows():
    a = {"received": 3, "uptime": 10, "dns_resolver": "dnspython", "delivery_rate": 1.5,
         "QueueSummary": [{"binding": "default", "domain": "a.test", "aq": 1, "dq": 2}]}
    b = {"received": 4, "uptime": 12, "dns_resolver": "dnspython", "delivery_rate": 0.5,
         "QueueSummary": [{"binding": "default", "domain": "a.test", "aq": 5, "dq": 0},
                          {"binding": "default", "domain": "b.test", "aq": 1, "dq": 1}]}
    merged = merge([a, b])
    assert merged["received"] == 7 and merged["uptime"] == 12 and merged["delivery_rate"] == 2.0
    assert merged["dns_resolver"] == "dnspython"
    assert merged["QueueSummary"] == [{"binding": "default", "domain": "a.test", "aq": 6, "dq": 2},
                                      {"binding": "default", "domain": "b.test", "aq": 1, "dq": 1}]
    assert merge([[{"id": "1"}], [{"id": "2"}]]) == [{"id": "1"}, {"id": "2"}]
    assert merge([None, {"x": 1}]) == {"x": 1}


# -- spool partitions ---------------------------------------------------------------------------
def test_orphan_partitions_are_dealt_to_the_remaining_workers(tmp_path):
    for name in ("w0", "w1", "w2", "w3", "w4", "other"):
        (tmp_path / name).mkdir()
    (tmp_path / "segments").mkdir()  # a single-process daemon's spool
    assert orphan_partitions(str(tmp_path), 0, 2) == [str(tmp_path), str(tmp_path / "w2"),
                                                      str(tmp_path / "w4")]
    assert orphan_partitions(str(tmp_path), 1, 2) == [str(tmp_path / "w3")]


def test_adopting_a_partition_moves_every_message_with_its_state(tmp_path):
    old = Spool(str(tmp_path / "w2"), fsync=False)
    batch = old.store(Envelope(mail_from="s@b.test", recipients=[Recipient("a@x.test"),
                                                                 Recipient("b@y.test")]), b"body\r\n")
    old.update(batch.messages[1], retries=3, last_error="451 later")
    old.close()
    mine = Spool(str(tmp_path / "w0"), fsync=False)
    lines: list[str] = []
    assert adopt_orphans(mine, str(tmp_path), 0, 2, lines.append) == 2
    mine.load_all()
    got = {m.id: m for m in mine.messages()}
    assert set(got) == {m.id for m in batch.messages}
    assert got[batch.messages[1].id].retries == 3
    assert mine.read_body(got[batch.messages[0].id]) == b"body\r\n"
    mine.close()
    again = Spool(str(tmp_path / "w2"), fsync=False)
    assert again.load_all().count == 0  # ended in the orphan
    again.close()
    assert "adopted 2 messages" in lines[0]


# -- small helpers ------------------------------------------------------------------------------
def test_worker_arguments_and_counts():
    assert parse_worker_arg("1/4") == (1, 4)
    for bad in ("4/4", "-1/2", "x/2"):
        try:
            parse_worker_arg(bad)
        except ValueError:
            continue
        raise AssertionError(bad)
    assert worker_count(config("worker_processes = 3\n")) == 3
    assert worker_count(config("")) == 1
    assert worker_count(config("worker_processes = auto\n")) == len(os.sched_getaffinity(0))


def test_run_dir_falls_back_to_tmp_when_the_socket_path_would_be_too_long(tmp_path):
    base = tempfile.mkdtemp(prefix="ec-", dir="/tmp")
    try:
        assert choose_run_dir(f"{base}/run/ecelerity.pid") == (f"{base}/run/workers", False)
    finally:
        shutil.rmtree(base)
    deep = tmp_path / ("d" * 90) / "ecelerity.pid"
    path, temporary = choose_run_dir(str(deep))
    assert temporary and path.startswith("/tmp/") and os.path.isdir(path)
    os.rmdir(path)
