"""ecelerity/control/server.py: real sockets on loopback and in tmp_path, a real client.

The server runs in this process's gevent hub; the blocking client runs in gevent's
threadpool so the hub keeps serving while it waits.
"""
from __future__ import annotations

import os
import socket
import stat
import time

import gevent
import pytest

from ecelerity.control.client import ControlClient, run_command
from ecelerity.control.protocol import MAX_LINE
from ecelerity.control.registry import CommandRegistry
from ecelerity.control.server import ControlServer, bind_tcp, bind_unix
from ecelerity.daemon.service import StartupError


def in_thread(fn, *args):
    return gevent.get_hub().threadpool.apply(fn, args)


@pytest.fixture
def registry():
    reg = CommandRegistry()
    reg.register("echo", lambda ctx: " ".join(ctx.args), "echo")

    def slow(ctx):
        gevent.sleep(0.3)
        return "done"

    reg.register("slow", slow, "takes a while")
    return reg


def serve(sock, registry, **kwargs):
    server = ControlServer(sock, "test", lambda line, ident: registry.execute(line, peer=ident.peer, identity=ident), **kwargs)
    server.start()
    return server


def test_unix_socket_greets_and_serves_several_commands_per_connection(tmp_path, registry):
    path = str(tmp_path / "run/control.sock")
    server = serve(bind_unix(path, 0o600), registry, unix_path=path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600

    def session():
        with ControlClient(path, timeout=5) as client:
            return [client.command("echo a b"), client.command("echo ."), client.command("nope")]

    first, dot, unknown = in_thread(session)
    assert (first.status, first.body) == (200, ["a b"])
    assert dot.body == ["."]
    assert unknown.status == 404
    server.stop(time.monotonic() + 1)
    assert not os.path.exists(path)


def test_tcp_listener_on_loopback_with_port_0(registry):
    server = serve(bind_tcp("127.0.0.1", 0), registry)
    host, port = server.address.rsplit(":", 1)
    assert host == "127.0.0.1" and int(port) > 0
    reply = in_thread(run_command, server.address, "echo tcp")
    assert reply.body == ["tcp"]
    server.stop(time.monotonic() + 1)


def test_raw_wire_quit_and_overlong_line(tmp_path, registry):
    path = str(tmp_path / "c.sock")
    server = serve(bind_unix(path), registry, unix_path=path)

    def raw(payload: bytes) -> bytes:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(5)
            sock.connect(path)
            sock.sendall(payload)
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
            return b"".join(chunks)

    assert in_thread(raw, b"echo x\r\nquit\n") == b"ecelerity-control 1\n200 ok\nx\n.\n200 bye\n.\n"
    too_long = in_thread(raw, b"echo " + b"x" * (MAX_LINE + 10) + b"\n")
    assert too_long.splitlines()[1] == f"413 command line longer than {MAX_LINE} bytes".encode()
    server.stop(time.monotonic() + 1)


def test_idle_client_is_disconnected_after_the_timeout(tmp_path, registry):
    path = str(tmp_path / "c.sock")
    server = serve(bind_unix(path), registry, unix_path=path, timeout=0.2)

    def idle() -> float:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(5)
            sock.connect(path)
            started = time.monotonic()
            while sock.recv(1024):
                pass
            return time.monotonic() - started

    assert in_thread(idle) < 3
    server.stop(time.monotonic() + 1)


def test_stop_lets_a_running_command_finish(tmp_path, registry):
    path = str(tmp_path / "c.sock")
    server = serve(bind_unix(path), registry, unix_path=path)
    pending = gevent.spawn(in_thread, run_command, path, "slow")
    gevent.sleep(0.1)
    server.stop(time.monotonic() + 5)
    assert pending.get(timeout=5).body == ["done"]


def test_stale_socket_is_replaced_and_a_live_one_is_in_use(tmp_path, registry):
    path = str(tmp_path / "c.sock")
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(path)
    stale.close()  # file left behind, nobody listening
    server = serve(bind_unix(path), registry, unix_path=path)
    with pytest.raises(StartupError, match=r"cannot listen on control socket '.*c\.sock': Address already in use"):
        bind_unix(path)
    server.stop(time.monotonic() + 1)


def test_a_regular_file_in_the_way_is_refused(tmp_path):
    (tmp_path / "c.sock").write_text("mine")
    with pytest.raises(StartupError, match="a file that is not a socket is in the way"):
        bind_unix(str(tmp_path / "c.sock"))
    assert (tmp_path / "c.sock").read_text() == "mine"


def test_tcp_port_in_use_names_the_address():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        with pytest.raises(StartupError) as caught:
            bind_tcp("127.0.0.1", port)
    assert str(caught.value) == f"cannot listen on control address 127.0.0.1:{port}: Address already in use"


def test_control_service_follows_the_config_on_reload(tmp_path):
    from ecelerity.config.loader import load_config
    from ecelerity.control.server import ControlService
    from ecelerity.daemon.app import App
    from ecelerity.log.paniclog import PanicLog

    conf = tmp_path / "ecelerity.conf"
    conf.write_text(f'Control_Listener {{ Listen "{tmp_path}/a.sock" {{ File_Mode = 0640 }} }}\n')
    log = PanicLog(str(tmp_path / "paniclog.ec"))
    service = ControlService()
    app = App(load_config(str(conf)), config_path=str(conf), paniclog=log, services=[service],
              commands=CommandRegistry())
    app.start()
    try:
        assert stat.S_IMODE(os.stat(tmp_path / "a.sock").st_mode) == 0o640
        assert in_thread(run_command, str(tmp_path / "a.sock"), "pid").body == [str(os.getpid())]
        conf.write_text(f'Control_Listener {{ Listen "{tmp_path}/b.sock" {{ }} '
                        f'Listen "{tmp_path}/c.sock" {{ Enable = false }} }}\n')
        assert app.reload().ok
        assert service.addresses() == [f"{tmp_path}/b.sock"]
        assert not (tmp_path / "a.sock").exists() and not (tmp_path / "c.sock").exists()
        assert stat.S_IMODE(os.stat(tmp_path / "b.sock").st_mode) == 0o660  # Momentum's default
        assert in_thread(run_command, str(tmp_path / "b.sock"), "pid").ok
    finally:
        app.stop()
        log.close()
    assert not (tmp_path / "b.sock").exists()
