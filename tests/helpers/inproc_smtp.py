"""An in-process SMTP listener for extension tests: real Session, real Spool, real loopback socket.

    with SessionServer(tmp_path, make_settings=lambda peer: settings) as srv:
        client = smtplib.SMTP("127.0.0.1", srv.port)     # any blocking client
    srv.stored()                                        # [(envelope dict, bytes, rcpts)]

The server runs its own gevent hub in a background thread (gevent keeps one hub per
thread), so the test thread may use blocking clients (smtplib, ssl, raw sockets).
Each connection gets a fresh SessionSettings from ``make_settings(peer_ip)``: tests
set option values directly, with no configuration file. ``hooks`` is a
policy.phases.HookRegistry. Loopback and port 0 only.
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Callable

from ecelerity.smtp.settings import SessionSettings


class SessionServer:
    def __init__(self, tmp_path: Path, make_settings: Callable[[str], SessionSettings] | None = None,
                 *, hooks: Any = None, host: str = "127.0.0.1", fsync: bool = False) -> None:
        self.spool_dir = Path(tmp_path) / "spool"
        self.make_settings = make_settings or (lambda peer: SessionSettings(hostname="mx.test"))
        self.hooks = hooks
        self.host = host
        self.fsync = fsync
        self.port = 0
        self.sessions: list[Any] = []
        self._ready = threading.Event()
        self._stop: Any = None
        self._hub: Any = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> "SessionServer":
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("in-process SMTP server did not start")
        if self._error is not None:
            raise self._error
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._hub is not None and self._stop is not None:
            self._hub.loop.run_callback_threadsafe(self._stop.set)
        self._thread.join(15)

    def _serve(self) -> None:
        import gevent
        import gevent.event
        from gevent.server import StreamServer

        from ecelerity.core.spool import Spool
        from ecelerity.policy.phases import HookRegistry
        from ecelerity.smtp.session import Session

        try:
            self._hub = gevent.get_hub()
            self._stop = gevent.event.Event()
            spool = Spool(str(self.spool_dir), fsync=self.fsync)
            hooks = self.hooks or HookRegistry()

            def handle(sock: Any, addr: Any) -> None:
                settings = self.make_settings(addr[0])
                session = Session(sock, addr, settings=settings, spool=spool, hooks=hooks,
                                  local_addr=f"{self.host}:{self.port}", conn_id=str(len(self.sessions)))
                self.sessions.append(session)
                session.run()

            server = StreamServer((self.host, 0), handle)
            server.start()
            self.port = server.address[1]
        except BaseException as exc:  # noqa: BLE001 - reported to the test thread
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self._stop.wait()
        server.stop(timeout=2)
        spool.close()
        gevent.get_hub().destroy(destroy_loop=True)

    def stored(self) -> list[tuple[dict, bytes, list[str]]]:
        """(envelope dict, message bytes, recipients) per batch; call after the with-block."""
        from ecelerity.core.spool import Spool
        spool = Spool(str(self.spool_dir), fsync=False)
        try:
            spool.load_all(repair=False)
            seen: dict[str, dict] = {}
            for msg in sorted(spool.messages(), key=lambda m: (m.segment, m.data_offset)):
                entry = seen.setdefault(msg.batch_id, {"env": msg.envelope.to_dict(), "rcpts": [],
                                                        "data": spool.read_body(msg)})
                entry["rcpts"].append(msg.recipient.address)
            return [(e["env"], e["data"], e["rcpts"]) for e in seen.values()]
        finally:
            spool.close()
