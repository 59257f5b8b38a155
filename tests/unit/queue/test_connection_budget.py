"""server_max_outbound_connections counts idle pooled connections (queue/connection_budget.py,
delivery/pool.py take_oldest): the real engine, a real sink counting concurrent
connections, the real manager. With a limit of 1, delivering to a second domain first
closes the first domain's idle connection; with 2 both stay open."""
from __future__ import annotations

import pytest

from ecelerity.config.loader import load_config_text
from ecelerity.core.envelope import Envelope, Recipient
from ecelerity.core.spool import Spool
from ecelerity.delivery.dns import DnsResolver
from ecelerity.delivery.engine import DeliveryEngine
from ecelerity.queue.manager import QueueManager
from tests.helpers.sink import SmtpSink
from tests.unit.queue.queue_fakes import wait_for


@pytest.fixture
def world(tmp_path):
    made = []

    def make(sink, extra):
        cfg = load_config_text(f'gateway = "{sink.host}:{sink.port}"\nidle_timeout = 30\n'
                               f'connect_timeout = 3\nehlo_timeout = 3\nrset_timeout = 3\n{extra}')
        spool = Spool(str(tmp_path / f"spool{len(made)}"), fsync=False)
        engine = DeliveryEngine(lambda: cfg, spool, dns=DnsResolver(nameserver="127.0.0.1"))
        manager = QueueManager(cfg, spool, engine, dsn_builder=None)
        manager.start()
        made.append((manager, engine, spool))
        return manager, engine, spool

    yield make
    for manager, engine, spool in made:
        manager.stop(timeout=1.0)
        engine.close()
        spool.close()


def send(manager, spool, rcpt, binding=None):
    batch = spool.store(Envelope("s@src.test", [Recipient(rcpt)], binding=binding),
                        b"Subject: t\r\n\r\nbody\r\n")
    manager.admit(batch)
    wait_for(lambda: all(m.removed for m in batch.messages), what=f"delivery to {rcpt}")


@pytest.mark.parametrize("limits", ["server_max_outbound_connections = 1\n",
                                    'Binding "b1" { server_max_outbound_connections = 1 }\n'])
def test_an_idle_connection_of_another_domain_is_closed_to_stay_within_the_limit(world, limits):
    with SmtpSink("127.0.0.2") as sink:
        manager, engine, spool = world(sink, limits)
        send(manager, spool, "a@one.test", binding="b1")
        assert engine.idle_connections(domain="one.test") == 1
        send(manager, spool, "b@two.test", binding="b1")
        assert engine.idle_connections() == 1 and engine.idle_connections(domain="two.test") == 1
        send(manager, spool, "c@two.test", binding="b1")   # reuses its own idle connection
        assert (sink.connections, sink.max_concurrent, len(sink.messages)) == (2, 1, 3)


def test_with_room_idle_connections_stay_open(world):
    with SmtpSink("127.0.0.2") as sink:
        manager, engine, spool = world(sink, "server_max_outbound_connections = 2\n")
        send(manager, spool, "a@one.test")
        send(manager, spool, "b@two.test")
        assert engine.idle_connections() == 2
        assert (sink.connections, sink.max_concurrent) == (2, 2)
