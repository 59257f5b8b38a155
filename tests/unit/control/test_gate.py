"""ecelerity/control/gate.py with server.py and client.py: authentication and authorization on
real loopback TCP and unix sockets, policies read from a real parsed config.
"""
from __future__ import annotations

import functools
import socket

import gevent
import pytest

from ecelerity.config.parser import parse_text
from ecelerity.config.resolver import Config
from ecelerity.control import auth, gate
from ecelerity.control.client import AuthFailed, AuthRequired, ControlClient
from ecelerity.control.commands_authz import register_authz_commands
from ecelerity.control.protocol import read_reply
from ecelerity.control.registry import CommandRegistry
from ecelerity.control.server import ControlServer, bind_tcp, bind_unix

CONFIG = """
Control_Listener {{
  AuthDigestMD5Parameters = [ uri = "digest://{passwd}" ]
  Enable_Authorization = true
  Listen "127.0.0.1:0" {{ Enable_Authentication = true }}
  Listen "{sock}" {{ }}
}}
Authorization {{
  Role "ops" {{ allow = ( "^echo" "^authz roles" ) }}
}}
"""


def in_thread(fn, *args, **kwargs):
    return gevent.get_hub().threadpool.apply(functools.partial(fn, *args, **kwargs))


@pytest.fixture
def world(tmp_path):
    passwd = tmp_path / "console_passwd"
    passwd.write_text(auth.password_line("alice", "wonder", ["ops"], iterations=1000) + "\n"
                      + auth.password_line("bob", "builder", [], iterations=1000) + "\n")
    sock_path = str(tmp_path / "c.sock")
    cfg = Config(parse_text(CONFIG.format(passwd=passwd, sock=sock_path), "ec.conf"), files=[], warnings=[])
    registry = CommandRegistry()
    registry.register("echo", lambda ctx: " ".join(ctx.args), "echo")
    registry.register("pid", lambda ctx: "1", "pid")
    register_authz_commands(registry)

    class App:
        config = cfg

    logged: list[str] = []

    def factory(listen, kind):
        def make(sock, peer):
            ip = None if kind == "unix" else peer.rsplit(":", 1)[0]
            identity = gate.Identity(peer, user=gate.unix_peer_user(sock) if kind == "unix" else "")
            return gate.Gate(gate.policy_from_config(cfg, listen, ip), identity, log=logged.append)
        return make

    def execute(line, ident):
        return registry.execute(line, App, peer=ident.peer, identity=ident)

    tcp = ControlServer(bind_tcp("127.0.0.1", 0), "tcp", execute, gate_factory=factory("127.0.0.1:0", "tcp"))
    unix = ControlServer(bind_unix(sock_path), "unix", execute, unix_path=sock_path,
                         gate_factory=factory(sock_path, "unix"))
    tcp.start()
    unix.start()
    yield tcp.address, unix.address, logged
    tcp.stop(0)
    unix.stop(0)


def run(address, *lines, **kwargs):
    with ControlClient(address, timeout=5, **kwargs) as client:
        return client.authenticated_as, [client.command(line) for line in lines]


def test_tcp_requires_auth_and_roles_decide(world):
    tcp, _, logged = world
    who, (echo, pid, ident) = in_thread(run, f"alice@{tcp}", "echo hi", "pid", "authz id --json",
                                        password="wonder")
    assert who == "alice"
    assert (echo.status, echo.body) == (200, ["hi"])
    assert (pid.status, pid.text) == (403, "permission denied: user 'alice' may not run 'pid'")
    assert '"user": "alice"' in ident.body_text and '"authenticated": true' in ident.body_text
    assert '"ops"' in ident.body_text
    assert "user 'alice' authenticated from 127.0.0.1:" in logged[0]


def test_user_without_roles_is_denied_everything_but_authz_id(world):
    tcp, _, _ = world
    _, (echo, ident) = in_thread(run, f"bob@{tcp}", "echo x", "authz id", password="builder")
    assert echo.status == 403
    assert ident.ok and ident.body[0].startswith("User: bob (authenticated, from 127.0.0.1:")


def test_wrong_password_missing_user_and_raw_wire(world):
    tcp, _, logged = world
    with pytest.raises(AuthFailed, match="535 authentication failed"):
        in_thread(run, f"alice@{tcp}", "echo", password="nope")
    assert any("authentication failed for user 'alice'" in line for line in logged)
    with pytest.raises(AuthRequired):
        in_thread(run, tcp, "echo")

    def raw():
        host, port = tcp.rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            reader = sock.makefile("rb")
            greeting = reader.readline()
            sock.sendall(b"echo hi\n")
            before = read_reply(reader.readline)
            statuses = []
            for _ in range(3):
                sock.sendall(b"AUTH SCRAM-SHA-256 alice abc\n")
                statuses.append(read_reply(reader.readline).status)
                sock.sendall(b"AAAA\n")
                statuses.append(read_reply(reader.readline).status)
            return greeting, before, statuses, reader.readline()

    greeting, before, statuses, after = in_thread(raw)
    assert greeting == b"ecelerity-control 1 AUTH=SCRAM-SHA-256\n"
    assert before.status == 530
    assert statuses == [334, 535, 334, 535, 334, 535]
    assert after == b""  # the third failure hangs up


def test_unix_socket_is_trusted_but_still_authorized(world):
    _, unix, _ = world
    who, (ident, echo) = in_thread(run, unix, "authz id --json", "echo x")
    assert who == ""
    assert '"trusted_listener": true' in ident.body_text and '"authenticated": false' in ident.body_text
    assert echo.status == 403  # the unix peer's account has no role allowing echo
    who, (echo,) = in_thread(run, unix, "echo via unix", user="alice", password="wonder")
    assert who == "alice" and echo.body == ["via unix"]


def test_authz_roles_list_shows_the_config(world):
    tcp, _, _ = world
    _, (roles,) = in_thread(run, f"alice@{tcp}", "authz roles list", password="wonder")
    assert roles.body == ["Role ops:", "  allow ^echo", "  allow ^authz roles"]
