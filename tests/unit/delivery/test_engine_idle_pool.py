"""ecelerity/delivery/engine.py + pool.py: as many connections wait idle as the queue may
keep busy (max_outbound_connections), so a full set of concurrent hand-offs finds its
connections again instead of opening new ones; beyond the limit extras get QUIT."""
from __future__ import annotations

import gevent

from tests.helpers.sink import SmtpSink
from tests.unit.delivery.test_engine import base_config, dns_server, make_engine, store  # noqa: F401


def _concurrent_rounds(engine, count: int) -> list[str]:
    jobs = [gevent.spawn(engine.deliver, "default", "aonly.test", store(engine.spool, f"u{i}@aonly.test"))
            for i in range(count)]
    gevent.joinall(jobs, raise_error=True)
    return [r.outcome for job in jobs for r in job.value]


def test_eight_concurrent_handoffs_keep_eight_idle_connections_and_reuse_them(spool, dns_server):  # noqa: F811
    with SmtpSink("127.0.0.2") as sink:
        engine = make_engine(spool, dns_server, base_config(sink.port, "max_outbound_connections = 8\n"))
        assert _concurrent_rounds(engine, 8) == ["delivered"] * 8
        assert sink.connections == 8 and engine.pool.idle_count() == 8
        assert _concurrent_rounds(engine, 8) == ["delivered"] * 8
        assert sink.connections == 8          # every second-round hand-off reused one
        engine.close()


def test_the_default_floor_of_four_idle_still_holds_with_a_smaller_limit(spool, dns_server):  # noqa: F811
    with SmtpSink("127.0.0.2") as sink:
        engine = make_engine(spool, dns_server, base_config(sink.port, "max_outbound_connections = 2\n"))
        assert _concurrent_rounds(engine, 6) == ["delivered"] * 6
        assert engine.pool.idle_count() == 4  # max(4, limit): the previous bound
        engine.close()
