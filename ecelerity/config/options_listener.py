"""Option table: listener sockets, thread pools and event loops.

Options that shape the sockets of ESMTP_Listener, Control_Listener, HTTP_Listener...
and their Listen stanzas (backlog, buffers, file mode of unix sockets, enable),
plus ThreadPool and event-loop options. Read by registry.py only.
"""
from __future__ import annotations

from .options_common import ALL_LISTENERS, GLOBAL, THREADPOOL, opt
from .types import BOOLEAN, COUNT, OCTAL_MODE, SECONDS, SIZE, STRING

_SOCKET = ALL_LISTENERS - {"msgcserver_listener"}

OPTIONS = [
    opt("enable", BOOLEAN, True, ALL_LISTENERS,
        "false disables a listener or Listen without removing it (modules use 'enabled')", implemented=True),
    opt("listen_backlog", COUNT, 500, _SOCKET, "listen(2) backlog", implemented=True),
    opt("accept_queue_backlog", COUNT, 0, ALL_LISTENERS, "accepted connections queued for a pool"),
    opt("concurrency", COUNT, 0, _SOCKET | THREADPOOL,
        "threads serving this listener, or the size of a thread pool"),
    opt("events_per_iter", COUNT, 0, _SOCKET, "events handled per loop pass when concurrency > 1"),
    opt("pool_name", STRING, None, _SOCKET, "thread pool that accepts for this listener (else IO)"),
    opt("tcp_recv_buffer_size", SIZE, 4096, _SOCKET, "SO_RCVBUF (0 = let the OS manage it)"),
    opt("tcp_send_buffer_size", SIZE, 4096, _SOCKET, "SO_SNDBUF (0 = let the OS manage it)"),
    opt("disable_nagle_algorithm", BOOLEAN, False, _SOCKET | GLOBAL, "set TCP_NODELAY on sockets"),
    opt("file_mode", OCTAL_MODE, 0o660, ALL_LISTENERS, "permissions of a unix-socket Listen", implemented=True),
    opt("timeout", SECONDS, 60, {"control_listener", "listen"},
        "idle timeout of control connections", implemented=True),
    opt("event_loop", STRING, None, {"esmtp_listener", "ecstream_listener", "listen"},
        "event-loop pool serving this listener", dynamic=False),
    opt("delivery_pool", STRING, None, GLOBAL, "event-loop pool used for delivery", dynamic=False),
    opt("maintainer_pool", STRING, None, GLOBAL,
        "event-loop pool for queue maintainers, DNS and module events", dynamic=False),
    opt("stack_size", SIZE, 0, THREADPOOL, "stack size of each pool thread", dynamic=False),
    opt("backlog", COUNT, 0, THREADPOOL, "jobs that may queue for a pool (0 = unbounded)",
        dynamic=False),
]
