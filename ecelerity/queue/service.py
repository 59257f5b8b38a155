"""QueueService: the daemon service that runs the QueueManager (daemon/service.py contract).

daemon/app.py lists it in SERVICE_FACTORIES after the SpoolService (which opens the
one spool of the process and reads it in: ``app.spool``) and before the SMTP service.
``start(app)`` builds the manager with ``app.delivery_engine`` or a
new ``delivery.engine.DeliveryEngine`` (config getter, spool, DnsResolver.from_config); queues every spooled message by
its retry state; publishes ``app.queue_manager`` (the SMTP side calls
``app.queue_manager.admit(stored_batch)`` after each store) and ``app.queue_admin``.
It also loads ``bounce_classification_rules`` into bounce/classify.py (the bouncelog
and DSNs classify through it): a bad rules file stops start-up with its file:line, and
on reload is reported and the previous rules kept. ``reload`` hands the new Config to the manager; ``stop`` lets deliveries finish until
the deadline. Without a delivery engine (the delivery package missing) messages are
queued and expire on time but are not sent; that is written to the paniclog.
"""
from __future__ import annotations

import time
from typing import Any

from ecelerity.bounce import classify

from .admin import QueueAdmin
from .manager import QueueManager


class QueueService:
    name = "queue"

    def __init__(self) -> None:
        self.manager: QueueManager | None = None
        self._engine: Any = None
        self._owns_engine = False
        self._log: Any = lambda text: None

    def start(self, app: Any) -> None:
        spool = getattr(app, "spool", None)
        if spool is None:
            from ..daemon.service import StartupError

            raise StartupError("queue: no spool (the spool service must start first)")
        try:
            classify.configure(app.config.get("bounce_classification_rules"))
        except classify.ClassifyRulesError as exc:
            from ..daemon.service import StartupError

            raise StartupError(f"bounce_classification_rules: {exc}") from exc
        engine = getattr(app, "delivery_engine", None)
        if engine is None:
            engine = self._make_engine(app, spool)
            self._owns_engine = engine is not None
        self._engine = engine
        self._log = lambda text: app.log("queue", text)
        manager = QueueManager(app.config, spool, engine,
                               log=lambda text: app.log("queue", text))
        manager.admit_messages(spool.messages())
        manager.start()
        self.manager = manager
        app.queue_manager = manager
        app.queue_admin = QueueAdmin(manager)

    def stop(self, deadline: float) -> None:
        if self.manager is not None:
            self.manager.stop(timeout=max(0.0, deadline - time.monotonic()))
            self.manager = None
        close_engine = getattr(self._engine, "close", None)
        if close_engine is not None and self._owns_engine:
            close_engine()

    def reload(self, old_cfg: Any, new_cfg: Any) -> None:
        try:
            classify.configure(new_cfg.get("bounce_classification_rules"))
        except classify.ClassifyRulesError as exc:
            self._log(f"bounce_classification_rules not reloaded (previous rules kept): {exc}")
        if self.manager is not None:
            self.manager.config = new_cfg
            self.manager.wake()

    @staticmethod
    def _make_engine(app: Any, spool: Any) -> Any:
        try:
            from ecelerity.delivery.dns import DnsResolver
            from ecelerity.delivery.engine import DeliveryEngine
        except ImportError as exc:
            app.log("queue", f"no delivery engine ({exc}); messages stay queued until expiry")
            return None
        return DeliveryEngine(lambda: app.config, spool, dns=DnsResolver.from_config(app.config),
                              idgen=getattr(spool, "idgen", None),
                              paniclog=getattr(app, "paniclog", None))
