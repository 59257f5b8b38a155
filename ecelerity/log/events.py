"""The log events the SMTP side and the console report, each to the daemon's LogHub.

Who calls it: smtp/accept.py (``log_reception`` after ``spool.store``), smtp/session.py
(``log_refusal`` for every 4xx/5xx reply), smtp/auth.py (``log_smtp_auth`` after each
AUTH verdict), control/server.py (``log_console_auth`` / ``log_console_authz``); all
re-exported by log/service.py. Each finds the App's LogHub (``app.loggers``; none:
nothing to do) and hands it the event. Never raises into its caller (logging never
costs a message, a session or a login: a failure is one paniclog line through the
hub) and never builds log lines itself (the hub and its sinks do).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .service import LogHub


def _hub_of(session: Any) -> LogHub | None:
    app = getattr(getattr(session, "service", None), "app", None)
    return getattr(app, "loggers", None)


def log_reception(session: Any, batch: Any) -> None:
    """smtp/accept.py, after ``spool.store`` returned: the R lines of ``batch``."""
    hub = _hub_of(session)
    if hub is not None:
        try:
            hub.reception(batch, session.conn_id)
        except Exception as exc:  # noqa: BLE001 - logging never costs a message
            hub._say(f"reception not logged: {type(exc).__name__}: {exc}")


def log_refusal(session: Any, reply: Any) -> None:
    """smtp/session.py, for a reply of 400 or more: the rejectlog line."""
    hub = _hub_of(session)
    if hub is not None:
        try:
            hub.refusal(session, reply)
        except Exception as exc:  # noqa: BLE001 - logging never costs a session
            hub._say(f"rejection not logged: {type(exc).__name__}: {exc}")


def _hub_of_app(app: Any) -> LogHub | None:
    return getattr(app, "loggers", None)


def _account(hub: LogHub | None, *args: Any) -> None:
    if hub is not None:
        try:
            hub.account(*args)
        except Exception as exc:  # noqa: BLE001 - logging never costs a login
            hub._say(f"acctlog record not written: {type(exc).__name__}: {exc}")


def log_smtp_auth(session: Any, user: str, ok: bool, *, timeout: bool = False) -> None:
    """smtp/auth.py, after each AUTH verdict (or a timeout inside the exchange): acctlog
    ``N`` (``T`` for a timeout), endpoint = the listener's address, peer = ip:port."""
    peer = f"{session.peer_ip}:{session.peer_port}" if session.peer_ip else ""
    _account(_hub_of(session), "T" if timeout else "N", session.local_addr or "", peer,
             user or "", 1 if ok and not timeout else 0)


def log_console_auth(app: Any, endpoint: str, peer: str, user: str, ok: bool, *,
                     timeout: bool = False) -> None:
    """The console (control/), after each login: acctlog N (T for a timeout); ``peer`` is
    ip:port, or '' on a Unix socket; ``endpoint`` the control listener (``/tmp/2025``)."""
    _account(_hub_of_app(app), "T" if timeout else "N", endpoint, peer, user,
             1 if ok and not timeout else 0)


def log_console_authz(app: Any, endpoint: str, peer: str, user: str, result: int,
                      command: str, role: str) -> None:
    """The console, for each command it authorizes: acctlog Z with result 1 (allowed),
    0 (denied) or -1 (error), the command and the role that matched."""
    _account(_hub_of_app(app), "Z", endpoint, peer, user, result, command, role)
