"""What a long-running part of the daemon (a listener, the queue manager...) promises the App.

A service is any object with these three methods; the App (daemon/app.py) calls them
in the hub, in registration order for start and reload, reverse order for stop:

- ``start(app)``: bind sockets, spawn greenlets; raise ``StartupError`` with an
  operator-facing reason (e.g. ``cannot listen on 127.0.0.1:2525: Address already in
  use``) when it cannot run. The daemon then stops what was started and exits 1.
- ``stop(deadline)``: stop accepting at once, let work in progress finish until
  ``deadline`` (a ``time.monotonic()`` value), then cut what is left.
- ``reload(old_cfg, new_cfg)``: the App already swapped ``app.config`` to ``new_cfg``;
  adjust (open/close sockets, resize pools). Must not raise for ordinary changes; an
  exception is logged to the paniclog and the other services still reload.

Services read configuration only through ``app.config`` at the moment they need it,
never caching values across a reload. This module holds no state.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .app import App


class StartupError(Exception):
    """A service cannot start; str() is the one-line reason shown to the operator."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code


class Service(Protocol):
    name: str

    def start(self, app: "App") -> None: ...

    def stop(self, deadline: float) -> None: ...

    def reload(self, old_cfg: Any, new_cfg: Any) -> None: ...
