"""Per-connection authentication and authorization state of the control channel.

Who calls it: server.py builds one ``Gate`` per accepted connection (through the factory
``ControlService`` gives it) and passes every command line to ``Gate.intercept`` before
running it; the ``authz`` commands read the ``Identity`` the gate keeps. The wire steps
are described in protocol.py, the crypto is auth.py, the rules are authz.py.

Never runs a command, never logs a secret, never raises into the server loop (a broken
password file means "authentication failed", reported once through ``log``).
"""
from __future__ import annotations

import os
import pwd
import socket
from dataclasses import dataclass, field
from typing import Any, Callable

from . import auth, authz
from .protocol import JSON_FLAG, Reply, make_greeting

MAX_FAILURES = 3


@dataclass
class Identity:
    """Who is on the other end of one connection."""

    peer: str  # "unix:/path" or "ip:port"
    user: str = ""  # authenticated name, or the unix peer's account, or ""
    roles: tuple[str, ...] = ()
    authenticated: bool = False
    trusted: bool = True  # the Listen does not require authentication
    authorization: bool = False  # Enable_Authorization on this Listen/Peer
    rules: list[authz.Role] = field(default_factory=list)


@dataclass
class GatePolicy:
    """What one Listen asks for (from the config at connection time)."""

    require_auth: bool = False
    authorization: bool = False
    password_file: str | None = None
    rules: list[authz.Role] = field(default_factory=list)


def unix_peer_user(sock: Any) -> str:
    """The account name of a unix-socket peer (SO_PEERCRED), '' when unknown."""
    try:
        creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12)
        uid = int.from_bytes(creds[4:8], "little")
        return pwd.getpwuid(uid).pw_name
    except (OSError, KeyError, AttributeError):
        return ""


class Gate:
    def __init__(self, policy: GatePolicy, identity: Identity, *,
                 log: Callable[[str], None] = lambda message: None,
                 account: Callable[..., None] = lambda *record: None) -> None:
        self.policy = policy
        self.identity = identity
        identity.trusted = not policy.require_auth
        identity.authorization = policy.authorization
        identity.rules = policy.rules
        self._log = log
        # acctlog: account("N", user, ok) after a login, account("Z", user, result,
        # command, role) for each command checked against the Authorization roles
        self._account = account
        self._exchange: auth.ScramServer | None = None
        self.failures = 0
        self.closing = False  # the server should hang up after sending the reply

    def greeting(self) -> str:
        return make_greeting((auth.MECHANISM,) if self.policy.require_auth else ())

    def lookup(self, name: str) -> auth.ConsoleUser | None:
        path = self.policy.password_file
        if not path:
            return None
        try:
            users = auth.load_password_file(path)
        except OSError as exc:
            self._log(f"cannot read console password file '{path}': {exc.strerror or exc}")
            return None
        return users.users.get(name)

    def intercept(self, line: str) -> Reply | None:
        """A reply when the gate answers this line itself; None to run it as a command."""
        if self._exchange is not None:
            return self._finish(line.strip())
        words = line.split()
        if words and words[0].upper() == "AUTH":
            return self._start(words[1:])
        ident = self.identity
        if not ident.trusted and not ident.authenticated:
            return Reply(530, "authentication required: AUTH SCRAM-SHA-256 <user> <nonce>")
        if ident.authorization:
            words = [w for w in words if w != JSON_FLAG]
            decision = authz.check(ident.rules, ident.user, ident.roles, " ".join(words))
            self._account("Z", ident.user, 1 if decision.allowed else 0, " ".join(words),
                          decision.role or "")
            if not decision.allowed:
                self._log(f"authorization denied: user '{ident.user or '-'}' from {ident.peer}: "
                          f"{' '.join(words)[:200]}")
                return Reply(403, f"permission denied: user '{ident.user or '-'}' may not run "
                                  f"'{' '.join(words[:3])}'")
        return None

    def _start(self, args: list[str]) -> Reply:
        if not args or args[0].upper() != auth.MECHANISM or len(args) != 3:
            return Reply(504, f"usage: AUTH {auth.MECHANISM} <user> <client nonce>")
        exchange = auth.ScramServer(self.lookup)
        try:
            challenge = exchange.first(args[1], args[2])
        except auth.AuthError as exc:
            return Reply(501, str(exc))
        self._exchange = exchange
        return Reply(334, challenge)

    def _finish(self, proof: str) -> Reply:
        exchange, self._exchange = self._exchange, None
        if proof == "*":
            return Reply(501, "authentication cancelled")
        try:
            signature = exchange.finish(proof)
        except auth.AuthError:
            self.failures += 1
            self._log(f"authentication failed for user '{exchange.name}' from {self.identity.peer}")
            self._account("N", exchange.name, False)
            if self.failures >= MAX_FAILURES:
                self.closing = True
            return Reply(535, "authentication failed")
        user = exchange.user
        self.identity.user, self.identity.roles = user.name, user.roles
        self.identity.authenticated = True
        self._log(f"user '{user.name}' authenticated from {self.identity.peer}")
        self._account("N", user.name, True)
        return Reply(235, f"authenticated as {user.name}", [f"v={signature}"])


def policy_from_config(cfg: Any, listen: str, peer_ip: str | None) -> GatePolicy:
    """The Listen's (and matching Peer's) authentication settings, read now."""
    def get(option: str) -> Any:
        try:
            return cfg.get_inbound(option, listener="control_listener", listen=listen, peer_ip=peer_ip)
        except KeyError:
            return None

    path = None
    for option in ("authdigestmd5parameters", "authcrammd5parameters", "authloginparameters"):
        path = auth.password_file_path(get(option))
        if path:
            break
    if path and not os.path.isabs(path):
        path = os.path.abspath(path)
    return GatePolicy(require_auth=bool(get("enable_authentication")) and not get("always_allow"),
                      authorization=bool(get("enable_authorization")),
                      password_file=path, rules=authz.roles_of(cfg))
