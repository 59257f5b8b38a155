"""One listening socket for a config ListenSpec: TCP (IPv4/IPv6, SO_REUSEADDR, optional
SO_REUSEPORT for the workers of daemon/supervisor.py, IPv6-only) or a unix socket
(a stale socket file is replaced; the file mode applied).

Who calls it: the SMTP (smtp/server.py) and HTTP (http/service.py) listeners. It only
binds and listens: it never accepts, reads or writes.
"""
from __future__ import annotations

import os
import socket
from typing import Any


def listen_socket(spec: Any, backlog: int, *, reuse_port: bool = False,
                  file_mode: int = 0o660) -> socket.socket:
    """A bound, listening gevent socket for a config ListenSpec (TCP v4/v6 or unix)."""
    from gevent import socket as gsocket
    if spec.kind == "unix":
        if os.path.exists(spec.path) and not os.path.isdir(spec.path):
            os.unlink(spec.path)  # a stale socket from a previous run
        sock = gsocket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(spec.path)
        os.chmod(spec.path, file_mode)
    else:
        host = spec.host or "0.0.0.0"
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = gsocket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind((host, spec.port or 0))
    sock.listen(backlog)
    return sock
