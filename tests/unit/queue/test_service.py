"""QueueService inside a real App (after the SpoolService): requeues what it holds,
publishes app.spool / app.queue_manager / app.queue_admin, follows reloads, closes the
spool on stop. The delivery engine is queue_fakes.FakeEngine set as app.delivery_engine.
"""
from __future__ import annotations

import time

from ecelerity.config.loader import load_config_text
from ecelerity.core.spool import Spool
from ecelerity.core.spool_service import SpoolService
from ecelerity.daemon.app import App
from ecelerity.log.paniclog import PanicLog
from ecelerity.queue.manager import DELAYED
from ecelerity.queue.service import QueueService
from ecelerity.queue.clock import SystemClock

from tests.unit.queue.queue_fakes import FakeEngine, store, wait_for


def make_app(tmp_path, extra: str = "") -> App:
    cfg = load_config_text(f'Spoolbase = "{tmp_path}/spool"\n{extra}')
    return App(cfg, config_path=str(tmp_path / "ecelerity.conf"),
               paniclog=PanicLog(str(tmp_path / "paniclog.ec")), services=[SpoolService(), QueueService()],
               loader=lambda path: load_config_text(f'Spoolbase = "{tmp_path}/spool"\n'
                                                    'Max_Outbound_Connections = 7\n'))


def test_start_requeues_the_spool_and_admits_new_mail(tmp_path):
    spool = Spool(str(tmp_path / "spool"), fsync=False)
    ready = store(spool, ["a@now.test"]).messages[0]
    later = store(spool, ["b@later.test"]).messages[0]
    spool.update(later, retries=2, next_attempt=time.time() + 3600)
    spool.close()

    app = make_app(tmp_path)
    app.delivery_engine = FakeEngine(SystemClock())
    app.start()
    try:
        manager = app.queue_manager
        wait_for(lambda: app.spool.get(ready.id) is None, what="ready message delivered")
        assert manager.entry(later.id).state == DELAYED
        assert app.spool.get(later.id).retries == 2
        batch = store(app.spool, ["c@new.test"])
        manager.admit(batch)
        wait_for(lambda: batch.messages[0].removed)
        assert [row.domain for row in app.queue_admin.stats(domain="later.test")] == ["later.test"]
        assert manager.config.get("max_outbound_connections") == 32
        assert app.reload().ok
        assert manager.config is app.config
        assert manager.config.get("max_outbound_connections") == 7
    finally:
        app.stop()
    reopened = Spool(str(tmp_path / "spool"), fsync=False)  # the lock was released
    try:
        assert [m.id for m in reopened.load_all().messages] == [later.id]
    finally:
        reopened.close()


def test_builds_the_real_delivery_engine_when_the_app_has_none(tmp_path):
    from ecelerity.delivery.engine import DeliveryEngine

    spool = Spool(str(tmp_path / "spool"), fsync=False)
    held = store(spool, ["a@nowhere.test"]).messages[0]
    spool.close()
    app = make_app(tmp_path, "Suspend_Delivery = true\n")  # no DNS traffic from this test
    app.start()
    try:
        assert isinstance(app.queue_manager.engine, DeliveryEngine)
        time.sleep(0.05)
        assert app.queue_manager.entry(held.id).state == "active"
    finally:
        app.stop()
