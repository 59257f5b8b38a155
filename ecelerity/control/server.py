"""The control listener: Control_Listener's sockets, one greenlet per console connection.

``ControlService`` is the daemon service (see daemon/service.py) that opens one
``ControlServer`` per enabled ``Listen`` of ``Control_Listener``: a unix socket path
(its parent directory is created; the file gets the listener's ``File_Mode``,
default 0660; a stale socket file left by a dead daemon is replaced, a live one is
"in use") or a TCP address. Relative socket paths are relative to the daemon's
working directory. On reload, Listens that appeared are opened and those that went
away are closed. Each connection speaks protocol.py and runs commands through the
App's command registry, after the connection's Gate (gate.py) let it through:
authentication per Listen (``Enable_Authentication``) with the password file named by
``AuthDigestMD5Parameters``, authorization (``Enable_Authorization``) by the global
``Authorization`` roles; a Listen without authentication is trusted.

Bind errors become StartupError with the address, e.g. ``cannot listen on control
socket 'var/run/control.sock': Address already in use``. Never blocks the hub:
sockets are gevent sockets and command handlers must not block.
"""
from __future__ import annotations

import errno
import os
import socket as std_socket
import stat
import time
from typing import Any, Callable

import gevent
import gevent.pool
from gevent import socket as gsocket
from gevent.server import StreamServer

from ecelerity.daemon.service import StartupError

from . import gate as gates
from .protocol import MAX_LINE, Reply, decode_line, encode_reply

DEFAULT_FILE_MODE = 0o660
DEFAULT_TIMEOUT = 60.0
BACKLOG = 64

Execute = Callable[[str, gates.Identity], Reply]  # (command line, who asks) -> reply
GateFactory = Callable[[Any, str], gates.Gate]  # (connected socket, peer description) -> Gate


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def bind_unix(path: str, mode: int = DEFAULT_FILE_MODE) -> gsocket.socket:
    """A listening unix socket at ``path``; StartupError naming the path when impossible."""
    where = f"cannot listen on control socket '{path}'"
    parent = os.path.dirname(path)
    try:
        if parent and os.path.exists(parent) and not os.path.isdir(parent):
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), parent)
        if parent:
            os.makedirs(parent, exist_ok=True)
        if os.path.lexists(path):
            if not stat.S_ISSOCK(os.lstat(path).st_mode):
                raise StartupError(f"{where}: a file that is not a socket is in the way")
            probe = std_socket.socket(std_socket.AF_UNIX, std_socket.SOCK_STREAM)
            probe.settimeout(1.0)
            try:
                probe.connect(path)
            except OSError:
                os.unlink(path)  # nobody listens: a stale socket from a dead daemon
            else:
                raise StartupError(f"{where}: Address already in use (another process listens there)")
            finally:
                probe.close()
        sock = gsocket.socket(std_socket.AF_UNIX, std_socket.SOCK_STREAM)
    except OSError as exc:
        raise StartupError(f"{where}: {_reason(exc)}") from None
    try:
        sock.bind(path)
        os.chmod(path, mode)
        sock.listen(BACKLOG)
    except OSError as exc:
        sock.close()
        raise StartupError(f"{where}: {_reason(exc)}") from None
    return sock


def format_tcp(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def bind_tcp(host: str, port: int) -> gsocket.socket:
    """A listening TCP socket; StartupError naming host:port when impossible."""
    family = std_socket.AF_INET6 if ":" in host else std_socket.AF_INET
    sock = gsocket.socket(family, std_socket.SOCK_STREAM)
    try:
        sock.setsockopt(std_socket.SOL_SOCKET, std_socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(BACKLOG)
    except OSError as exc:
        sock.close()
        raise StartupError(f"cannot listen on control address {format_tcp(host, port)}: {_reason(exc)}") from None
    return sock


class ControlServer:
    """Serves the control protocol on one listening socket."""

    def __init__(self, listener: gsocket.socket, label: str, execute: Execute, *,
                 timeout: float = DEFAULT_TIMEOUT, unix_path: str | None = None,
                 gate_factory: GateFactory | None = None):
        self.label = label
        self._gate_factory = gate_factory
        self.unix_path = unix_path
        self.timeout = timeout
        self._execute = execute
        self._sessions = gevent.pool.Pool()  # unbounded; StreamServer needs a Pool
        self._busy: set[Any] = set()
        self._server = StreamServer(listener, self._serve, spawn=self._sessions)

    @property
    def address(self) -> str:
        """Where clients connect: the socket path or host:port (the real port when 0 was asked)."""
        if self.unix_path is not None:
            return self.unix_path
        host, port = self._server.socket.getsockname()[:2]
        return format_tcp(host, port)

    def start(self) -> None:
        self._server.start()

    def stop(self, deadline: float) -> None:
        """Stop accepting; let running commands finish until ``deadline``; close the rest."""
        self._server.close()
        while self._busy and time.monotonic() < deadline:
            gevent.sleep(0.02)
        self._sessions.kill(block=True, timeout=1.0)
        if self.unix_path is not None:
            try:
                os.unlink(self.unix_path)
            except OSError:
                pass

    def _serve(self, sock: gsocket.socket, address: Any) -> None:
        peer = self.label if not address else f"{address[0]}:{address[1]}"
        me = gevent.getcurrent()
        sock.settimeout(self.timeout)
        reader = sock.makefile("rb")
        if self._gate_factory is not None:
            gate = self._gate_factory(sock, peer)
        else:
            gate = gates.Gate(gates.GatePolicy(), gates.Identity(peer))
        try:
            sock.sendall((gate.greeting() + "\n").encode("ascii"))
            while True:
                raw = reader.readline(MAX_LINE + 1)
                if not raw:
                    return
                if len(raw) > MAX_LINE and not raw.endswith(b"\n"):
                    sock.sendall(encode_reply(413, f"command line longer than {MAX_LINE} bytes"))
                    return
                line = decode_line(raw).strip()
                if line.lower() in ("quit", "exit"):
                    sock.sendall(encode_reply(200, "bye"))
                    return
                answer = gate.intercept(line)
                if answer is not None:
                    if answer.status == 535:
                        gevent.sleep(0.2)  # slow down password guessing
                    sock.sendall(encode_reply(answer.status, answer.text, answer.body))
                    if gate.closing:
                        return
                    continue
                self._busy.add(me)
                try:
                    reply = self._execute(line, gate.identity)
                    sock.sendall(encode_reply(reply.status, reply.text, reply.body))
                finally:
                    self._busy.discard(me)
        except OSError:  # includes timeouts
            return  # client went away or stayed idle too long
        finally:
            reader.close()
            sock.close()


def _listen_key(spec: Any) -> tuple:
    if spec.kind == "unix":
        return ("unix", os.path.abspath(spec.path))
    return ("tcp", spec.host, spec.port)


def _listener_option(cfg: Any, listen: str, names: tuple[str, ...], default: Any) -> Any:
    for name in names:
        try:
            value = cfg.get_inbound(name, listener="control_listener", listen=listen)
        except KeyError:
            continue  # not an option the registry knows
        if value is not None:
            return value
    return default


class ControlService:
    """The daemon service owning every control listener socket."""

    name = "control"

    def __init__(self) -> None:
        self.app: Any = None
        self.servers: dict[tuple, ControlServer] = {}

    def start(self, app: Any) -> None:
        self.app = app
        for key, spec in self._wanted(app.config).items():
            self._open(key, spec, app.config)

    def stop(self, deadline: float) -> None:
        for key in list(self.servers):
            self.servers.pop(key).stop(deadline)

    def reload(self, old_cfg: Any, new_cfg: Any) -> None:
        wanted = self._wanted(new_cfg)
        for key in [k for k in self.servers if k not in wanted]:
            server = self.servers.pop(key)
            server.stop(time.monotonic() + 1.0)
            self.app.log("control", f"closed control listener {server.address}")
        for key, spec in wanted.items():
            if key not in self.servers:
                try:
                    self._open(key, spec, new_cfg)
                except StartupError as exc:
                    self.app.log("control", f"reload: {exc}")

    def addresses(self) -> list[str]:
        return [server.address for server in self.servers.values()]

    def _wanted(self, cfg: Any) -> dict[tuple, Any]:
        return {_listen_key(spec): spec for spec in cfg.listens("control_listener") if spec.enabled}

    def _open(self, key: tuple, spec: Any, cfg: Any) -> None:
        timeout = float(_listener_option(cfg, spec.name, ("timeout", "control_client_timeout"),
                                         DEFAULT_TIMEOUT))
        if spec.kind == "unix":
            mode = _listener_option(cfg, spec.name, ("file_mode",), DEFAULT_FILE_MODE)
            mode = mode if isinstance(mode, int) else DEFAULT_FILE_MODE
            sock = bind_unix(spec.path, mode)
            label, unix_path = f"unix:{spec.path}", spec.path
        else:
            sock = bind_tcp(spec.host, spec.port or 0)
            label, unix_path = format_tcp(spec.host, spec.port or 0), None
        try:
            server = ControlServer(sock, label, self._execute, timeout=timeout, unix_path=unix_path,
                                   gate_factory=self._gate_factory(spec.name, spec.kind))
            server.start()
        except Exception:
            sock.close()
            if unix_path is not None:
                os.unlink(unix_path)
            raise
        self.servers[key] = server
        self.app.log("control", f"listening on {server.address}")

    def _gate_factory(self, listen: str, kind: str) -> GateFactory:
        def make(sock: Any, peer: str) -> gates.Gate:
            peer_ip = None if kind == "unix" else peer.rsplit(":", 1)[0].strip("[]")
            policy = gates.policy_from_config(self.app.config, listen, peer_ip)
            identity = gates.Identity(peer)
            if kind == "unix":
                identity.user = gates.unix_peer_user(sock)
            gate = gates.Gate(policy, identity, log=lambda text: self.app.log("control", text),
                              account=self._accountant(listen, "" if kind == "unix" else peer))
            if identity.user:
                known = gate.lookup(identity.user)
                identity.roles = known.roles if known is not None else ()
            return gate
        return make

    def _accountant(self, endpoint: str, peer: str) -> Callable[..., None]:
        """acctlog records (N: login, Z: authorization) for one control connection."""
        from ecelerity.log.service import log_console_auth, log_console_authz

        def account(kind: str, user: str, result: Any, command: str = "", role: str = "") -> None:
            if kind == "N":
                log_console_auth(self.app, endpoint, peer, user, bool(result))
            else:
                log_console_authz(self.app, endpoint, peer, user, int(result), command, role)
        return account

    def _execute(self, line: str, identity: gates.Identity) -> Reply:
        app = self.app

        def on_error(command: str, exc: BaseException) -> None:
            app.log_exception("control", f"command '{command}' failed", exc)

        return app.commands.execute(line, app, peer=identity.peer, on_error=on_error,
                                    identity=identity)


__all__ = ["ControlServer", "ControlService", "bind_tcp", "bind_unix"]
