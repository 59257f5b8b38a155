"""SMTPService: the ESMTP listener -- one gevent StreamServer per enabled Listen.

The daemon (daemon/app.py) creates one SMTPService and calls ``start(app)``,
``reload(old_cfg, new_cfg)`` and ``stop(deadline)`` (daemon/service.py). From
``app`` it uses ``app.config`` (the Config in force, read at each accept so a
reload applies to new connections), ``app.spool`` (a core.spool.Spool; when the
app has none, one is opened from ``spoolbase``/``force_fsync``) and, when present,
``app.hooks`` (the policy/phases.HookRegistry modules register into). At start and
on reload it also applies the message-model options (``pcre_cache_size``/``_ttl`` to
core/pcre_stream's shared cache, ``large_message_threshold`` to core/message).

For every ``Listen`` of ``ESMTP_Listener`` (IPv4 ``ip:port`` or ``:port``, IPv6
``[addr]:port`` / ``[*]:port``, or a Unix socket path) one listening socket; each
connection runs a smtp/session.Session in its own greenlet, with SessionSettings
resolved once for its (Listen, peer IP). Concurrency limits (``listener_sessions``,
``service_sessions``, ``peer_sessions``) refuse with ``421 4.4.5`` before the banner.

Stop: close the listening sockets at once, let sessions finish until the deadline,
then end the rest with ``421 4.3.2``. Never blocks the hub; never parses
configuration (asks the resolver).
"""
from __future__ import annotations

import logging
import socket
import time
from typing import Any

from gevent.pool import Pool
from gevent.server import StreamServer

from ..daemon.listen_socket import listen_socket
from ..policy.phases import HookRegistry
from . import replies
from .limits import InboundThrottle, SessionLimiter
from .rdns import ReverseDns
from .session import Session, Shutdown
from .settings import SessionSettings

log = logging.getLogger("ecelerity.smtp")

LISTENER = "esmtp_listener"


def _startup_error(message: str) -> Exception:
    try:
        from ..daemon.service import StartupError
    except ImportError:  # pragma: no cover - the daemon package is always there in practice
        return RuntimeError(message)
    return StartupError(message)


def _cfg_get(cfg: Any, option: str, default: Any, **scope: Any) -> Any:
    try:
        value = cfg.get_inbound(option, **scope) if scope else cfg.get(option)
    except (KeyError, LookupError):
        return default
    return default if value is None else value


def _configure_message_model(cfg: Any) -> None:
    """pcre_cache_size/_ttl and large_message_threshold for the shared message model."""
    from ..core import message, pcre_stream
    try:
        pcre_stream.configure(cfg)
        message.configure(cfg)
    except (KeyError, LookupError, TypeError, ValueError) as exc:
        log.error("message model options not applied: %s", exc)


class SMTPService:
    """See the module docstring."""

    name = "smtp"

    def __init__(self, listener: str = LISTENER) -> None:
        self.listener = listener
        self.app: Any = None
        self.spool: Any = None
        self.hooks: HookRegistry = HookRegistry()
        self.servers: dict[str, StreamServer] = {}
        self._local_addrs: dict[str, str] = {}   # listen name -> "ip:port" when not a wildcard
        self.pool = Pool()
        self.limiter = SessionLimiter()
        self.throttle = InboundThrottle()
        self.reconfiguring = False
        self.sessions_started = 0
        self.sessions_refused = 0
        self.idgen: Any = None
        self.queue: Any = None  # the QueueManager that accepted messages are admitted to
        self.rdns = ReverseDns(self._dns_resolver)  # received_rdns lookups (smtp/rdns.py)
        self._own_resolver: Any = None

    # -- life cycle -------------------------------------------------------------------
    def start(self, app: Any) -> None:
        self.app = app
        cfg = app.config
        _configure_message_model(cfg)
        spool = getattr(app, "spool", None)
        self.spool = spool if spool is not None else self._open_spool(cfg)
        self.idgen = getattr(self.spool, "idgen", None)
        self.queue = getattr(app, "queue_manager", None)
        hooks = getattr(app, "hooks", None)
        if hooks is not None:
            self.hooks = hooks
        for spec in cfg.listens(self.listener):
            if spec.enabled:
                self._open(spec, cfg)

    def stop(self, deadline: float) -> None:
        for server in self.servers.values():
            server.close()
        self.servers.clear()
        self.pool.join(timeout=max(0.0, deadline - time.monotonic()))
        for greenlet in list(self.pool):
            greenlet.kill(Shutdown(), block=False)
        self.pool.join(timeout=1.0)
        self.pool.kill(block=True, timeout=1.0)

    def reload(self, old_cfg: Any, new_cfg: Any) -> None:
        self.reconfiguring = True
        try:
            _configure_message_model(new_cfg)
            wanted = {spec.name: spec for spec in new_cfg.listens(self.listener) if spec.enabled}
            for name in list(self.servers):
                if name not in wanted:
                    self.servers.pop(name).close()
            for name, spec in wanted.items():
                if name not in self.servers:
                    try:
                        self._open(spec, new_cfg)
                    except Exception as exc:  # noqa: BLE001 - a bad Listen must not stop the reload
                        log.error("reload: %s", exc)
        finally:
            self.reconfiguring = False

    def _dns_resolver(self) -> Any:
        """The delivery engine's DnsResolver when there is one (one cache), else our own."""
        engine = getattr(getattr(self.app, "queue_manager", None), "engine", None)
        shared = getattr(engine, "dns", None)
        if shared is not None and hasattr(shared, "lookup"):
            return shared
        if self._own_resolver is None:
            from ..delivery.dns import DnsResolver
            self._own_resolver = DnsResolver.from_config(self.app.config, timeout=2.0, attempts=1)
        return self._own_resolver

    def sessions_by_ip(self) -> dict[str, int]:
        """Peer IP -> SMTP sessions in progress from it (a copy: read-only for callers)."""
        return dict(self.limiter.per_peer)

    # -- sockets ----------------------------------------------------------------------
    def bound_addresses(self) -> dict[str, Any]:
        """Listen name -> the address actually bound (a port 0 Listen shows its real port)."""
        return {name: server.socket.getsockname() for name, server in self.servers.items()}

    def _open(self, spec: Any, cfg: Any) -> None:
        backlog = int(_cfg_get(cfg, "listen_backlog", 500, listener=self.listener, listen=spec.name))
        try:
            sock = self._listen_socket(spec, backlog, cfg)
        except OSError as exc:
            raise _startup_error(f"cannot listen on {spec.name}: {exc.strerror or exc}") from None
        local = sock.getsockname()
        if isinstance(local, tuple) and local[0] not in ("0.0.0.0", "::"):
            # bound to one address: every connection's local address is the listener's
            self._local_addrs[spec.name] = f"{local[0]}:{local[1]}"
        else:
            self._local_addrs.pop(spec.name, None)
        server = StreamServer(sock, lambda s, a, _n=spec.name: self._handle(_n, s, a), spawn=self.pool)
        server.start()
        self.servers[spec.name] = server

    def _listen_socket(self, spec: Any, backlog: int, cfg: Any) -> socket.socket:
        mode = _cfg_get(cfg, "file_mode", 0o660, listener=self.listener, listen=spec.name)
        return listen_socket(spec, backlog, reuse_port=bool(getattr(cfg, "reuse_port", False)),
                             file_mode=int(mode))

    def _open_spool(self, cfg: Any) -> Any:
        from ..core.spool import Spool
        base = _cfg_get(cfg, "spoolbase", "./var/spool")
        return Spool(str(base), fsync=bool(_cfg_get(cfg, "force_fsync", False)))

    # -- one connection ---------------------------------------------------------------
    def _handle(self, listen_name: str, sock: Any, addr: Any) -> None:
        if isinstance(addr, tuple) and addr:
            peer = (addr[0], addr[1])
        else:
            peer = ("127.0.0.1", 0)  # a Unix-socket client is local
        peer_ip = peer[0]
        local_addr = self._local_addrs.get(listen_name)
        if local_addr is None:   # a wildcard or unix-socket listener: ask the connection
            try:
                local = sock.getsockname()
                local_addr = f"{local[0]}:{local[1]}" if isinstance(local, tuple) else str(local)
            except OSError:
                local_addr = ""
        cfg = self.app.config
        settings = SessionSettings.resolve(cfg, listen=listen_name, peer_ip=peer_ip, listener=self.listener)
        total_limit = min([n for n in (settings.listener_sessions, settings.service_sessions) if n > 0],
                          default=0)
        if not self.limiter.try_enter(peer_ip, total_limit=total_limit, peer_limit=settings.peer_sessions):
            self.sessions_refused += 1
            try:
                sock.sendall(replies.CONCURRENCY_LIMIT.wire())
            except OSError:
                pass
            sock.close()
            return
        self.sessions_started += 1
        conn_id = self.idgen.next_id() if self.idgen is not None else str(self.sessions_started)
        try:
            Session(sock, peer, settings=settings, spool=self.spool, hooks=self.hooks,
                    local_addr=local_addr, conn_id=conn_id, service=self).run()
        finally:
            self.limiter.leave(peer_ip)

