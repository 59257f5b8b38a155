"""Unix signals -> App actions, delivered in the gevent hub (never in a raw signal context).

- SIGTERM, SIGINT: ``app.request_shutdown()``; main.py then stops the services within
  their deadline, flushes the logs, removes the pidfile and exits 0.
- SIGHUP: ``app.reload()``: a valid file is swapped in, an invalid one is logged to the
  paniclog and the old configuration stays in force.
- SIGUSR1: ``app.reopen_logs()`` (after the operator rotated the files).

gevent runs each handler in a fresh greenlet, so a handler may wait (a reload may take
a while) without stalling the hub's signal delivery. Called once by daemon/main.py.
"""
from __future__ import annotations

import signal
from typing import TYPE_CHECKING, Any

import gevent

if TYPE_CHECKING:
    from .app import App


def install_signal_handlers(app: "App") -> list[Any]:
    """Route the daemon's signals to ``app``; keep the returned handles alive."""

    def on_terminate(signum: int) -> None:
        app.request_shutdown(signal.Signals(signum).name)

    def on_hangup() -> None:
        app.log("ecelerity", "SIGHUP received: reloading configuration")
        app.reload("SIGHUP")

    def on_usr1() -> None:
        app.reopen_logs()

    return [
        gevent.signal_handler(signal.SIGTERM, on_terminate, signal.SIGTERM),
        gevent.signal_handler(signal.SIGINT, on_terminate, signal.SIGINT),
        gevent.signal_handler(signal.SIGHUP, on_hangup),
        gevent.signal_handler(signal.SIGUSR1, on_usr1),
    ]


def remove_signal_handlers(handles: list[Any]) -> None:
    for handle in handles:
        handle.cancel()
